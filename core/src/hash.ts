/**
 * One fast, well-dispersed string hash for the whole core: rendezvous
 * placement scores child ids with it (distributed/placement.ts) and the
 * replicated store buckets and fingerprints its registers with it
 * (store/replica.ts). Not cryptographic: a peer that wanted to collide two
 * registers holds the cluster secret anyway.
 *
 * cyrb53 (public domain, bryc): two 32-bit multiply–xorshift lanes folded
 * into a 53-bit integer, which a JSON number carries exactly.
 */

/** 2^32, for splitting a 53-bit hash into 32-bit halves. */
export const TWO_32 = 4294967296;

/** cyrb53 of `text`: an integer in [0, 2^53). */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return TWO_32 * (2097151 & h2) + (h1 >>> 0);
}
