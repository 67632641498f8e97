/**
 * Injectable randomness.
 *
 * `CryptoRandom` is for production (nonces for the link handshake must be
 * unpredictable). `SeededRandom` (xoshiro128**, seeded through splitmix32) is
 * for simulation: the same seed gives the same run, so a failing seed is a
 * reproducible bug report.
 */
import { randomBytes, randomInt } from 'node:crypto';

/** A source of randomness, injected into every layer (CryptoRandom in production, SeededRandom in tests). */
export interface Random {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** `bytes` random bytes as lowercase hex. */
  hex(bytes: number): string;
}

/** Randomness from node:crypto, the production Random. */
export class CryptoRandom implements Random {
  /** A uniform number in [0, 1), from 48 random bits. */
  next(): number {
    return randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
  }

  /** A uniform integer in [0, n); 0 when n ≤ 1. */
  int(n: number): number {
    if (n <= 1) return 0;
    return randomInt(0, n);
  }

  /** `bytes` random bytes from node:crypto, as lowercase hex. */
  hex(bytes: number): string {
    return randomBytes(bytes).toString('hex');
  }
}

/** A seeded pseudo-random source: the same seed gives the same sequence. */
export class SeededRandom implements Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const split = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = split();
    this.s1 = split();
    this.s2 = split();
    this.s3 = split();
  }

  private nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** The next number of the sequence, uniform in [0, 1) (32 bits). */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** The next integer of the sequence, uniform in [0, n); 0 when n ≤ 1. */
  int(n: number): number {
    if (n <= 1) return 0;
    return Math.floor(this.next() * n);
  }

  /** The next `bytes` bytes of the sequence, as lowercase hex. */
  hex(bytes: number): string {
    let out = '';
    for (let i = 0; i < bytes; i++) out += (this.nextUint32() & 0xff).toString(16).padStart(2, '0');
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
