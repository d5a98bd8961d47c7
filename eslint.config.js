// ESLint flat config: neostandard ("standard" style: no semicolons, single
// quotes, 2-space indent, space before function parens) with TypeScript.
// `npm run lint` runs it; `npm test` runs lint first.
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', '.bftnode/**', 'net/**']
  }),
  {
    // a directive that suppresses nothing is stale: fail on it rather than warn
    linterOptions: { reportUnusedDisableDirectives: 'error' }
  },
  {
    rules: {
      // `void promise` as a statement deliberately marks a fire-and-forget promise
      'no-void': ['error', { allowAsStatement: true }],
      // object literals are laid out as tables (several properties a line, e.g. the VM builtins)
      '@stylistic/object-curly-newline': 'off',
      '@stylistic/object-property-newline': 'off'
    }
  },
  {
    // the examples' page scripts run in a browser
    files: ['examples/**/*.js'],
    ignores: ['examples/**/serve.js'],
    languageOptions: { globals: { location: 'readonly', document: 'readonly', window: 'readonly' } }
  },
  {
    files: ['**/*.ts'],
    rules: {
      // `const X = {...} as const` with `type X = ...` of the same name is deliberate; tsc reports real redeclarations (ts2451)
      '@typescript-eslint/no-redeclare': 'off',
      // added: the code already opts out of it with eslint-disable comments where `any` is meant
      '@typescript-eslint/no-explicit-any': 'error'
    }
  }
]
