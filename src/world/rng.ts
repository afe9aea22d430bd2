// Seeded randomness for the synthetic world. Every problem, mistake and data record draws from a stream
// whose seed is derived from its coordinates (base seed, split, index, ...) only, so any single item can be
// regenerated alone and nothing depends on generation order (the paper's data are fixed sets; ours must be
// reproducible sets, see docs/world.md "Determinism").

/** 32-bit FNV-1a over a string: turns coordinates into seed material. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes a 32-bit value (the finaliser of MurmurHash3): neighbouring coordinates give unrelated seeds. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A seed from a list of coordinates, e.g. `seedOf(1234, 'train', 17)`. */
export function seedOf(...coords: (string | number)[]): number {
  return mix32(fnv1a(coords.map(String).join('\u241f')));
}

/** A 32-bit hash of a text (used to assign problems to splits by content). */
export function hashText(s: string): number {
  return mix32(fnv1a(s));
}

/** Mulberry32: small, fast and good enough for data generation; not for cryptography. */
export class WorldRng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`WorldRng.int: empty range [${lo}, ${hi}]`);
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('WorldRng.pick: empty list');
    return xs[Math.floor(this.next() * xs.length)];
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    const total = keys.reduce((s, k) => s + Math.max(0, weights[k]), 0);
    if (!(total > 0)) throw new Error('WorldRng.weighted: all weights are zero');
    let u = this.next() * total;
    for (const k of keys) {
      u -= Math.max(0, weights[k]);
      if (u < 0) return k;
    }
    return keys[keys.length - 1];
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(xs: readonly T[]): T[] {
    const a = xs.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}
