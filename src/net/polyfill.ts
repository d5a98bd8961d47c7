// libp2p 3 calls Promise.withResolvers (Node >= 22). Node 20 lacks it: this must be imported
// before anything from libp2p runs. Standard semantics, nothing more.

interface Resolvers<T> { promise: Promise<T>, resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: unknown) => void }

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T> (): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve']
    let reject!: Resolvers<T>['reject']
    // eslint-disable-next-line promise/param-names -- resolve and reject are the outer variables these are copied to
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

export {}
