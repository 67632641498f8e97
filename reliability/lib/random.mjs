/**
 * Seeded draws the reliability scripts share, over core's `SeededRandom`
 * (anything with `int(n)`: a uniform integer in [0, n)).
 */

/** A uniformly shuffled copy of `xs` (Fisher–Yates), reproducible from the seed. */
/**
 * @template T
 * @param {{ int(n: number): number }} rng
 * @param {readonly T[]} xs
 * @returns {T[]}
 */
export function shuffle(rng, xs) {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [/** @type {T} */ (out[j]), /** @type {T} */ (out[i])];
  }
  return out;
}
