// A set that forgets its oldest entries past a fixed size: caches of verified signatures must
// not grow with history, and eviction by insertion order keeps them deterministic.

export class BoundedSet {
  private readonly items = new Set<string>()
  constructor (private readonly capacity: number) {}

  has (key: string): boolean {
    return this.items.has(key)
  }

  add (key: string): void {
    if (this.items.has(key)) return
    this.items.add(key)
    if (this.items.size > this.capacity) {
      const oldest = this.items.values().next().value
      if (oldest !== undefined) this.items.delete(oldest)
    }
  }

  get size (): number {
    return this.items.size
  }
}
