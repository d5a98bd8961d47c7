// The simulator's event queue: a binary heap ordered by (time, insertion), so equal-time events
// run in the order they were scheduled and every run of a seed is identical.

export interface Scheduled<E> { readonly at: number, readonly order: number, readonly event: E }

export class EventQueue<E> {
  private readonly heap: Array<Scheduled<E>> = []
  private counter = 0

  push (at: number, event: E): void {
    this.heap.push({ at, order: this.counter++, event })
    let i = this.heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(i, parent)) break
      this.swap(i, parent)
      i = parent
    }
  }

  pop (): Scheduled<E> | undefined {
    const top = this.heap[0]
    const last = this.heap.pop()
    if (top === undefined || last === undefined) return undefined
    if (this.heap.length > 0) {
      this.heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < this.heap.length && this.less(l, m)) m = l
        if (r < this.heap.length && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return top
  }

  get size (): number {
    return this.heap.length
  }

  private less (i: number, j: number): boolean {
    const a = this.heap[i]!
    const b = this.heap[j]!
    return a.at < b.at || (a.at === b.at && a.order < b.order)
  }

  private swap (i: number, j: number): void {
    const t = this.heap[i]!; this.heap[i] = this.heap[j]!; this.heap[j] = t
  }
}
