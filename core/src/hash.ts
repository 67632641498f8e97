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
  return fold(h1, h2);
}

/** cyrb53's last step: the two lanes mixed and folded into 53 bits. */
function fold(h1: number, h2: number): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return TWO_32 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * cyrb53 fed in pieces: `new Hash53().add(a).add(b).finish(c)` is
 * `hash53(a + b + c)`, bit for bit, without building the string. The store
 * fingerprints a register from the pieces of its canonical text, never
 * built (distributed/registers.ts); rendezvous placement hashes a child id
 * once and finishes it with each candidate's name (`id NUL node`), not the
 * whole text once per candidate (20 times at 20 members).
 */
export class Hash53 {
  private h1 = 0xdeadbeef;
  private h2 = 0x41c6ce57;

  /** Appends `text`; returns this hash. */
  add(text: string): this {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    this.h1 = h1;
    this.h2 = h2;
    return this;
  }

  /** hash53 of everything added, then `rest` (this hash is left as it is). */
  finish(rest = ''): number {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < rest.length; i++) {
      const ch = rest.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    return fold(h1, h2);
  }
}
