/** Byte helpers shared by the wire layer. */

/** Joins slices into one buffer; a single slice is returned as it is (no copy). */
export function concatBytes(slices: readonly Uint8Array[]): Uint8Array {
  if (slices.length === 1) return slices[0] as Uint8Array
  let n = 0
  for (const s of slices) n += s.length
  const out = new Uint8Array(n)
  let at = 0
  for (const s of slices) {
    out.set(s, at)
    at += s.length
  }
  return out
}
