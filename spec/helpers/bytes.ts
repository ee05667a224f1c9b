/** Deterministic pseudo-random bytes (an LCG), so a failing test can be replayed with the same body. */
export function pseudoRandom(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n)
  let x = seed
  for (let k = 0; k < n; k++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[k] = x >>> 24
  }
  return out
}
