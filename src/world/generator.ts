// The synthetic math world: seeded word problems whose solutions are 2–8 short steps ending in a boxed
// answer. It stands in for the paper's NuminaMath questions (§4.1 of arXiv:2503.03746) at a size a small
// character-level model can learn on two cores (docs/world.md "Why this world").
//
// A problem is a running story: a person starts with some items, then a few events change the count, and
// the question asks how many are left. Each event names its operation in words ("buys" adds, "sells"
// subtracts, "bags of" multiplies, "doubles", "halves"), so a step whose operation contradicts the words is
// detectable by reading one word (each step quotes the phrase it handles: `sells 12: 38-12=26`). All
// stated numbers in a problem are distinct from each other and from every result, so "which quantity did
// this step use" has one answer, and an operand that appears nowhere above is a visible slip.
//
// Determinism: problem (split, index) is drawn from a stream seeded by (seed, split, index, attempt) only.
// Splits are disjoint by construction: a candidate is kept only if a hash of its text falls in its split's
// bucket range, so train, test and harder can never share a problem text whatever their configs are.
import { WorldRng, hashText, seedOf } from './rng.js';

export type Op = '+' | '-' | '*' | '/';
export type Split = 'train' | 'test' | 'harder';
export const SPLITS: readonly Split[] = ['train', 'test', 'harder'];

/** One event of the story, as the problem text states it. */
export type WorldEvent =
  | { type: 'gain' | 'lose'; n: number; verb: string }
  | { type: 'packGain' | 'packLose'; count: number; size: number; verb: string; unit: string }
  | { type: 'scale'; k: 2 | 3; verb: 'doubles' | 'triples' }
  | { type: 'split'; k: 2 | 3; verb: 'halves' | 'a third' };

/**
 * One step of the canonical solution as an action template. Operands are either the running value `R`
 * (the last result, or the start amount), the pack product `P` (result of the previous step), or a number
 * stated in the problem. `word` is the phrase that fixes the operation; `item` is what a premature answer
 * leaves unused (for the explanation "12 is not used yet").
 */
export interface Template {
  x: 'R' | 'P' | number;
  op: Op;
  y: 'R' | 'P' | number;
  /** Writes its result to R (the running value) or P (a pack product used by the next step). */
  out: 'R' | 'P';
  /** How the step quotes the problem (see quoteOf): `buys 15`, `2 bags of 6`, `doubles`. */
  form: 'apply' | 'pack' | 'word';
  /** The words that fix the operation: `gives away`, `bags of`, `doubles`. */
  word: string;
  item: string;
  event: number;
}

/** A concrete canonical step: x op y = z. */
export interface Action {
  quote: string;
  x: number;
  op: Op;
  y: number;
  z: number;
  word: string;
}

export interface Problem {
  /** `${split}-${index}` */
  id: string;
  split: Split;
  index: number;
  /** The problem statement (the only thing a model sees). */
  text: string;
  name: string;
  item: string;
  start: number;
  events: WorldEvent[];
  /** Canonical action templates, one per arithmetic step (the answer step is implicit, last). */
  plan: Template[];
  /** The canonical arithmetic steps (the plan evaluated on correct values). */
  actions: Action[];
  answer: number;
  /** Solution length in steps, the boxed answer step included. */
  steps: number;
}

/** Difficulty knobs of one split. */
export interface SplitConfig {
  /** Solution steps including the final boxed step, inclusive range. */
  steps: [number, number];
  /** Start amount range. */
  start: [number, number];
  /** Range of numbers bought/sold/lost one at a time. */
  operand: [number, number];
  /** Pack count and pack size ranges ("buys 3 bags of 7"). */
  packCount: [number, number];
  packSize: [number, number];
  /** Every running value stays in [1, maxValue]. */
  maxValue: number;
  /** Operations events may use: '+', '-' (gain, lose), '*' (packs, doubles), '/' (halves). */
  ops: Op[];
}

export interface WorldConfig {
  seed: number;
  splits: Record<Split, SplitConfig>;
}

const BASE_SPLIT: SplitConfig = {
  steps: [2, 6],
  start: [10, 99],
  operand: [2, 49],
  packCount: [2, 9],
  packSize: [2, 12],
  maxValue: 999,
  ops: ['+', '-', '*', '/'],
};

/**
 * Defaults: train problems take 2–7 steps; test takes 2–6 of the same distribution and harder the longest, 7.
 * Harder-test is the hard end of what training covers, as the paper's harder benchmarks are: when train
 * stopped at 6 steps, harder-test's seventh step was a length no IFT, EFT or loop question had, and the
 * measured failures there were structural ones self-rewarding could not reach (docs/world.md, "Splits").
 * 8-step problems fit a 512-character context, not 384 (docs/world.md "Layout"), so they are a config
 * choice, not the default.
 */
export const DEFAULT_WORLD: WorldConfig = {
  seed: 20250305,
  splits: {
    train: { ...BASE_SPLIT, steps: [2, 7] },
    test: { ...BASE_SPLIT },
    harder: { ...BASE_SPLIT, steps: [7, 7] },
  },
};

/** Hash buckets (of 100) that each split owns: disjointness by construction. */
const BUCKETS: Record<Split, [number, number]> = { test: [0, 10], harder: [10, 20], train: [20, 100] };

export function splitOfText(text: string): Split {
  const b = hashText(text) % 100;
  for (const s of SPLITS) if (b >= BUCKETS[s][0] && b < BUCKETS[s][1]) return s;
  throw new Error(`unreachable bucket ${b}`);
}

const NAMES: readonly [string, 'She' | 'He'][] = [
  ['Ann', 'She'],
  ['Bo', 'He'],
  ['Cy', 'He'],
  ['Di', 'She'],
  ['Ed', 'He'],
  ['Flo', 'She'],
  ['Gus', 'He'],
  ['Hal', 'He'],
  ['Ivy', 'She'],
  ['Jo', 'She'],
  ['Kim', 'She'],
  ['Lu', 'He'],
  ['Max', 'He'],
  ['Ned', 'He'],
  ['Pia', 'She'],
  ['Rex', 'He'],
  ['Sam', 'He'],
  ['Tia', 'She'],
  ['Val', 'She'],
  ['Zoe', 'She'],
];
const ITEMS = ['pens', 'eggs', 'cards', 'coins', 'beads', 'apples', 'stamps', 'shells', 'nuts', 'cups'];
const GAIN_VERBS = ['buys', 'finds', 'wins', 'gets'];
const LOSE_VERBS = ['sells', 'loses', 'gives away', 'uses'];
const UNITS = ['bags', 'boxes', 'packs', 'rows'];

function sentence(e: WorldEvent, pronoun: string): string {
  switch (e.type) {
    case 'gain':
    case 'lose':
      return `${pronoun} ${e.verb} ${e.n}.`;
    case 'packGain':
    case 'packLose':
      return `${pronoun} ${e.verb} ${e.count} ${e.unit} of ${e.size}.`;
    case 'scale':
      return `${pronoun} ${e.verb} them.`;
    case 'split':
      return e.k === 2 ? `${pronoun} halves them.` : `${pronoun} keeps a third.`;
  }
}

/**
 * The words a step quotes before its arithmetic (docs/world.md "Layout"): the verb and the quantity it
 * applies (`buys 15`, `sells 12` for a pack product of 12), the pack (`2 bags of 6`), or the word
 * (`doubles`, `keeps a third`). Quoting makes every check local to the step: the operation must match the
 * quoted verb, the operand must match the quoted number, and the quote must be the problem's next phrase.
 */
export function quoteOf(t: Template, x: number, y: number): string {
  switch (t.form) {
    case 'apply':
      return `${t.word} ${y}`;
    case 'pack':
      return `${x} ${t.word} ${y}`;
    case 'word':
      return t.word;
  }
}

/** Builds the plan (action templates) of a list of events. */
export function planOf(events: WorldEvent[]): Template[] {
  const plan: Template[] = [];
  events.forEach((e, i) => {
    switch (e.type) {
      case 'gain':
      case 'lose':
        plan.push({
          x: 'R',
          op: e.type === 'gain' ? '+' : '-',
          y: e.n,
          out: 'R',
          form: 'apply',
          word: e.verb,
          item: String(e.n),
          event: i,
        });
        break;
      case 'packGain':
      case 'packLose':
        plan.push({
          x: e.count,
          op: '*',
          y: e.size,
          out: 'P',
          form: 'pack',
          word: `${e.unit} of`,
          item: String(e.count),
          event: i,
        });
        plan.push({
          x: 'R',
          op: e.type === 'packGain' ? '+' : '-',
          y: 'P',
          out: 'R',
          form: 'apply',
          word: e.verb,
          item: String(e.size),
          event: i,
        });
        break;
      case 'scale':
        plan.push({ x: 'R', op: '*', y: e.k, out: 'R', form: 'word', word: e.verb, item: e.verb, event: i });
        break;
      case 'split':
        plan.push({ x: 'R', op: '/', y: e.k, out: 'R', form: 'word', word: e.verb, item: e.verb, event: i });
        break;
    }
  });
  return plan;
}

export function applyOp(x: number, op: Op, y: number): number {
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return x / y;
  }
}

/** Evaluates a plan on correct values. */
export function actionsOf(start: number, plan: Template[]): Action[] {
  let R = start;
  let P = NaN;
  const out: Action[] = [];
  const val = (v: 'R' | 'P' | number) => (v === 'R' ? R : v === 'P' ? P : v);
  for (const t of plan) {
    const x = val(t.x),
      y = val(t.y);
    const z = applyOp(x, t.op, y);
    out.push({ quote: quoteOf(t, x, y), x, op: t.op, y, z, word: t.word });
    if (t.out === 'R') R = z;
    else P = z;
  }
  return out;
}

/** One attempt at a problem; null when the draw broke a constraint (the caller redraws). */
function draw(rng: WorldRng, cfg: SplitConfig): Omit<Problem, 'id' | 'split' | 'index'> | null {
  const steps = rng.int(cfg.steps[0], cfg.steps[1]);
  if (steps < 2) throw new Error(`world config: a solution needs at least 2 steps, got ${steps}`);
  const [name, pronoun] = rng.pick(NAMES);
  const item = rng.pick(ITEMS);
  // Stated numbers are distinct from each other and from every result, so each number above has one
  // origin and "which quantity did this step use" has one answer.
  const used = new Set<number>();
  const results = new Set<number>();
  const fresh = (lo: number, hi: number): number | null => {
    for (let t = 0; t < 20; t++) {
      const v = rng.int(lo, hi);
      if (!used.has(v) && !results.has(v)) {
        used.add(v);
        return v;
      }
    }
    return null;
  };
  const start = fresh(cfg.start[0], cfg.start[1]);
  if (start === null) return null;
  let R = start;
  let left = steps - 1;
  const events: WorldEvent[] = [];
  const has = (op: Op) => cfg.ops.includes(op);
  for (let tries = 0; left > 0; tries++) {
    if (tries > 200) return null;
    const kinds: WorldEvent['type'][] = [];
    if (has('+')) kinds.push('gain', 'gain');
    if (has('-')) kinds.push('lose', 'lose');
    if (has('*') && left >= 2) {
      if (has('+')) kinds.push('packGain');
      if (has('-')) kinds.push('packLose');
    }
    if (has('*')) kinds.push('scale');
    if (has('/')) kinds.push('split');
    if (kinds.length === 0) throw new Error('world config: ops must include at least one operation');
    const type = rng.pick(kinds);
    let e: WorldEvent | null = null;
    if (type === 'gain' || type === 'lose') {
      const n = fresh(cfg.operand[0], cfg.operand[1]);
      if (n === null) return null;
      const z = type === 'gain' ? R + n : R - n;
      if (z < 1 || z > cfg.maxValue || used.has(z)) {
        used.delete(n);
        continue;
      }
      e = { type, n, verb: rng.pick(type === 'gain' ? GAIN_VERBS : LOSE_VERBS) };
      R = z;
      left -= 1;
    } else if (type === 'packGain' || type === 'packLose') {
      const count = fresh(cfg.packCount[0], cfg.packCount[1]);
      if (count === null) return null;
      const size = fresh(cfg.packSize[0], cfg.packSize[1]);
      if (size === null) {
        used.delete(count);
        return null;
      }
      const z = type === 'packGain' ? R + count * size : R - count * size;
      if (z < 1 || z > cfg.maxValue || used.has(z) || used.has(count * size)) {
        used.delete(count);
        used.delete(size);
        continue;
      }
      results.add(count * size);
      e = { type, count, size, verb: rng.pick(type === 'packGain' ? GAIN_VERBS : LOSE_VERBS), unit: rng.pick(UNITS) };
      R = z;
      left -= 2;
    } else if (type === 'scale') {
      const k = rng.pick([2, 3] as const);
      if (R * k > cfg.maxValue || used.has(R * k)) continue;
      e = { type, k, verb: k === 2 ? 'doubles' : 'triples' };
      R *= k;
      left -= 1;
    } else {
      const k = rng.pick([2, 3] as const);
      if (R % k !== 0 || R / k < 1 || used.has(R / k)) continue;
      e = { type: 'split', k, verb: k === 2 ? 'halves' : 'a third' };
      R /= k;
      left -= 1;
    }
    events.push(e);
    results.add(R);
    if (events.length > 12) return null;
  }
  return composeProblem(name, pronoun, item, start, events);
}

/**
 * A problem from its parts (text, plan, canonical actions and answer are derived). The generator uses it;
 * tests and hand-made examples can too. Throws when a running value leaves the positive integers.
 */
export function composeProblem(
  name: string,
  pronoun: 'She' | 'He',
  item: string,
  start: number,
  events: WorldEvent[],
): Omit<Problem, 'id' | 'split' | 'index'> {
  const text = [`${name} has ${start} ${item}.`, ...events.map((e) => sentence(e, pronoun)), 'How many now?'].join(' ');
  const plan = planOf(events);
  const actions = actionsOf(start, plan);
  for (const a of actions) {
    if (!Number.isInteger(a.z) || a.z < 0)
      throw new Error(`problem "${text}": step ${a.x}${a.op}${a.y} gives ${a.z}, not a whole number`);
  }
  const answer = actions.length ? actions[actions.length - 1].z : start;
  return { text, name, item, start, events, plan, actions, answer, steps: plan.length + 1 };
}

/** The problem at (split, index) under `world`: a pure function of its arguments. */
export function generateProblem(world: WorldConfig, split: Split, index: number): Problem {
  const cfg = world.splits[split];
  if (!cfg) throw new Error(`unknown split '${split}' (expected one of ${SPLITS.join(', ')})`);
  if (!Number.isInteger(index) || index < 0)
    throw new Error(`problem index must be a non-negative integer, got ${index}`);
  for (let attempt = 0; attempt < 10000; attempt++) {
    const rng = new WorldRng(seedOf(world.seed, split, index, attempt));
    const p = draw(rng, cfg);
    if (p === null || splitOfText(p.text) !== split) continue;
    return { id: `${split}-${index}`, split, index, ...p };
  }
  throw new Error(
    `could not draw problem ${split}-${index} in 10000 attempts: check the split's config (ranges too tight?)`,
  );
}

/** Problems [from, from + n) of a split. */
export function generateProblems(world: WorldConfig, split: Split, n: number, from = 0): Problem[] {
  const out: Problem[] = [];
  for (let i = 0; i < n; i++) out.push(generateProblem(world, split, from + i));
  return out;
}

/** Merges a partial config over the defaults (per split, per key). */
export function worldConfig(
  partial: { seed?: number; splits?: Partial<Record<Split, Partial<SplitConfig>>> } = {},
): WorldConfig {
  const splits = {} as Record<Split, SplitConfig>;
  for (const s of SPLITS) splits[s] = { ...DEFAULT_WORLD.splits[s], ...(partial.splits?.[s] ?? {}) };
  return { seed: partial.seed ?? DEFAULT_WORLD.seed, splits };
}
