// Copies of mid-sized byte runs for the codec. A typed array over 64 bytes gets a backing store
// of its own (V8 keeps only smaller ones on its heap), which costs a microsecond or more apiece
// and loads the GC. Like Buffer's pool, copies of 65 bytes to 1 KB are carved out of a shared
// 8 KB slab instead: a copy keeps its slab alive, and never sees another copy's bytes.

const SLAB_BYTES = 8 * 1024
const MAX_POOLED = 1024
let slab = new ArrayBuffer(SLAB_BYTES)
let slabUsed = 0

/** A fresh plain Uint8Array holding src[start, start + n). */
export function copyBytes (src: Uint8Array, start: number, n: number): Uint8Array {
  if (n <= 64 || n > MAX_POOLED) return src.slice(start, start + n)
  if (slabUsed + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES)
    slabUsed = 0
  }
  const out = new Uint8Array(slab, slabUsed, n)
  out.set(src.subarray(start, start + n))
  // 8-byte aligned, as Buffer's pool does
  slabUsed = (slabUsed + n + 7) & ~7
  return out
}
