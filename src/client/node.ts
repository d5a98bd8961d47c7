// bftnode/client/node: everything bftnode/client has, plus what needs Node (files).

export * from './index.js'
export { FilePendingStore } from './pending-file.js'
export type { FilePendingStoreOptions } from './pending-file.js'
