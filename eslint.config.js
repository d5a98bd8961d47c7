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
    files: ['**/*.ts'],
    rules: {
      // `const X = {...} as const` with `type X = ...` of the same name is deliberate; tsc reports real redeclarations (ts2451)
      '@typescript-eslint/no-redeclare': 'off',
      // added: the code already opts out of it with eslint-disable comments where `any` is meant
      '@typescript-eslint/no-explicit-any': 'error'
    }
  },
  {
    // TODO(lead): trivial findings in files under concurrent edit, left unfixed to avoid
    // merge conflicts. Fix with `npx eslint --fix FILE`, then delete this block.
    files: ['src/core/broadcast/replica.ts'],
    rules: { '@stylistic/brace-style': 'off', '@stylistic/no-multiple-empty-lines': 'off' }
  },
  {
    files: ['src/core/checkpoint/snapshot.ts'], // TODO(lead): see above
    rules: { '@stylistic/generator-star-spacing': 'off' }
  },
  {
    files: ['test/sim/demo.ts'], // TODO(lead): see above
    rules: { '@stylistic/quotes': 'off' }
  },
  {
    files: ['test/support/localnet.ts'], // TODO(lead): see above
    rules: { '@stylistic/indent': 'off' }
  }
]
