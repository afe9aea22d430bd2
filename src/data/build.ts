// `psrlm data build`: writes the base corpus (M0), IFT and EFT data (M1 = SFT on IFT + EFT, paper §4.1),
// the held-out judge benchmark (the paper's 500 EFT test examples) and a manifest. Pure given its config:
// every record derives from (seed, pool, index), so a rebuild is byte-identical and any record can be
// regenerated alone.
//
// Problems come from disjoint index ranges ("pools") of the train split, so base, IFT and EFT train never
// share a problem, and the self-rewarding loop can draw fresh questions from `loop` onwards. Judge test
// sets come from the test and harder splits, which never share a problem with train (generator.ts).
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateProblem, worldConfig, type Split, type SplitConfig, type WorldConfig } from '../world/generator.js';
import { DEFAULT_POLICY, type PolicyOptions } from '../world/mistakes.js';
import { WorldRng, seedOf } from '../world/rng.js';
import { baseSolutionRecord, practiceRecord } from './base.js';
import { EXPLAIN_MODES, eftRecords, searchPairs, type EftPair, type ExplainMode } from './eft.js';
import { iftRecord } from './ift.js';
import { SCORE_POOL } from './score.js';
import { collectSingles } from './single.js';
import {
  type BaseRecord,
  type DataRecord,
  type EftRecord,
  type FileStats,
  type IftRecord,
  type Manifest,
  type SingleRecord,
} from './schema.js';
import { loadTemplate } from './templates.js';
import { toJsonl } from '../util/resumable-jsonl.js';

export interface DataConfig {
  seed: number;
  /** Prompt template name (templates/<name>.json). */
  template: string;
  world: WorldConfig;
  base: { problems: number; practice: number };
  /** `written`: the share of sums and differences that IFT writes out in columns before the result
   *  (docs/world.md "Two ways to do a step"; src/data/ift.ts). */
  ift: { problems: number; written: number };
  eft: {
    /** Pairs (each gives two examples, one per order). */
    trainPairs: number;
    testPairs: number;
    harderPairs: number;
    maxPairsPerProblem: number;
    policy: PolicyOptions;
    /** How the judge's check lines read (src/data/eft.ts `ExplainMode`). */
    explain: ExplainMode;
    /** Single-candidate checks for M1's SFT data (src/data/single.ts), from the EFT pool after the pairs'
     *  problems; 0 for templates without check_prompt (the paper's) unless given. */
    singles: number;
  };
  /** First train-split index of each pool. */
  pools: { base: number; ift: number; eft: number; loop: number };
  /** Character budgets: counted in the manifest; EFT pairs whose examples exceed budget.eft are not kept
   *  (the judge must read the whole prompt; 512 = the small model's context). */
  budget: { base: number; ift: number; eft: number };
}

export const DEFAULT_DATA: DataConfig = {
  seed: 20250305,
  template: 'compact',
  world: worldConfig(),
  base: { problems: 20000, practice: 6000 },
  ift: { problems: 20000, written: 0.3 },
  eft: {
    trainPairs: 10000,
    testPairs: 250,
    harderPairs: 250,
    maxPairsPerProblem: 2,
    policy: DEFAULT_POLICY,
    explain: 'nines',
    singles: 6000,
  },
  pools: { base: 0, ift: 100_000, eft: 200_000, loop: 300_000 },
  budget: { base: 512, ift: 512, eft: 512 },
};

type Partial2<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

/** Merges a partial config (e.g. from --config file.json) over the defaults, one level deep. */
export function dataConfig(
  partial: Partial2<DataConfig> & {
    world?: { seed?: number; splits?: Partial<Record<Split, Partial<SplitConfig>>> };
  } = {},
): DataConfig {
  const seed = partial.seed ?? DEFAULT_DATA.seed;
  const cfg: DataConfig = {
    seed,
    template: partial.template ?? DEFAULT_DATA.template,
    world: worldConfig({ seed, ...(partial.world ?? {}) }),
    base: { ...DEFAULT_DATA.base, ...(partial.base ?? {}) },
    ift: { ...DEFAULT_DATA.ift, ...(partial.ift ?? {}) },
    eft: { ...DEFAULT_DATA.eft, ...(partial.eft ?? {}) },
    pools: { ...DEFAULT_DATA.pools, ...(partial.pools ?? {}) },
    budget: { ...DEFAULT_DATA.budget, ...(partial.budget ?? {}) },
  };
  // The 512-character budget is the small model's context (the compact* templates); the verbatim paper
  // prompts alone are ~1,000 characters and are meant for real models, so they get no EFT budget unless
  // one is given.
  if (!cfg.template.startsWith('compact') && partial.budget?.eft === undefined)
    cfg.budget.eft = Number.MAX_SAFE_INTEGER;
  // Single-candidate checks are world data for the small model; the paper's templates have no check prompt.
  if (!cfg.template.startsWith('compact') && partial.eft?.singles === undefined) cfg.eft.singles = 0;
  if (!EXPLAIN_MODES.includes(cfg.eft.explain))
    throw new Error(
      `data config: eft.explain must be one of ${EXPLAIN_MODES.join(', ')}, got ${JSON.stringify(cfg.eft.explain)}`,
    );
  if (!(typeof cfg.ift.written === 'number' && cfg.ift.written >= 0 && cfg.ift.written <= 1))
    throw new Error(`data config: ift.written must be a share from 0 to 1, got ${JSON.stringify(cfg.ift.written)}`);
  if (!(Number.isInteger(cfg.eft.singles) && cfg.eft.singles >= 0))
    throw new Error(`data config: eft.singles must be a non-negative integer, got ${JSON.stringify(cfg.eft.singles)}`);
  const p = cfg.pools;
  if (!(p.base + cfg.base.problems <= p.ift && p.ift + cfg.ift.problems <= p.eft && p.eft < p.loop)) {
    throw new Error(
      `data config: pools overlap (base ${p.base}+${cfg.base.problems}, ift ${p.ift}+${cfg.ift.problems}, ` +
        `eft ${p.eft}, loop ${p.loop})`,
    );
  }
  return cfg;
}

/** EFT pairs from consecutive problems of a split starting at `from`, until `n` pairs. */
export function collectEftPairs(
  cfg: DataConfig,
  split: Split,
  from: number,
  n: number,
  limit?: number,
): { pairs: EftPair[]; next: number; dropped: number } {
  const t = loadTemplate(cfg.template);
  const pairs: EftPair[] = [];
  let dropped = 0;
  let i = from;
  let lastKept = from;
  const stop = limit ?? Number.POSITIVE_INFINITY;
  while (pairs.length < n) {
    if (i >= stop) throw new Error(`data build: ${split} pool ran out of problems at index ${i} before ${n} EFT pairs`);
    if (i - lastKept > 2000) {
      throw new Error(
        `data build: no ${split} EFT pair fits budget.eft = ${cfg.budget.eft} characters in 2000 problems ` +
          `(${dropped} dropped); raise budget.eft or shorten the template`,
      );
    }
    const p = generateProblem(cfg.world, split, i);
    const rng = new WorldRng(seedOf(cfg.seed, 'eft', split, i));
    for (const pair of searchPairs(
      p,
      { policy: cfg.eft.policy, maxPairsPerProblem: cfg.eft.maxPairsPerProblem, explain: cfg.eft.explain },
      rng,
    )) {
      const [r] = eftRecords(pair, 0, t);
      if (r.prompt.length + r.completion.length > cfg.budget.eft) {
        dropped++;
        continue;
      }
      if (pairs.length < n) pairs.push(pair);
      lastKept = i;
    }
    i++;
  }
  return { pairs, next: i, dropped };
}

export interface BuiltData {
  base: BaseRecord[];
  ift: IftRecord[];
  eftTrain: EftRecord[];
  eftTest: EftRecord[];
  eftHarder: EftRecord[];
  /** Single-candidate checks for M1's SFT data (train split). */
  eftSingle: SingleRecord[];
  pools: Record<string, [number, number]>;
  /** EFT pairs left out for exceeding budget.eft, per file. */
  dropped: Record<string, number>;
}

/** Builds every record in memory. */
export function buildRecords(cfg: DataConfig): BuiltData {
  const t = loadTemplate(cfg.template);
  const base: BaseRecord[] = [];
  for (let i = 0; i < cfg.base.problems; i++) {
    const idx = cfg.pools.base + i;
    base.push(baseSolutionRecord(generateProblem(cfg.world, 'train', idx), seedOf(cfg.seed, 'base', idx)));
  }
  for (let i = 0; i < cfg.base.practice; i++) base.push(practiceRecord(i, seedOf(cfg.seed, 'practice', i)));
  // Interleave practice documents among solutions (a seeded shuffle), so any prefix of the file is a mix.
  const baseMixed = new WorldRng(seedOf(cfg.seed, 'base-order')).shuffle(base);
  const ift: IftRecord[] = [];
  for (let i = 0; i < cfg.ift.problems; i++)
    ift.push(iftRecord(generateProblem(cfg.world, 'train', cfg.pools.ift + i), t, cfg.ift.written));
  const tr = collectEftPairs(cfg, 'train', cfg.pools.eft, cfg.eft.trainPairs, cfg.pools.loop);
  const te = collectEftPairs(cfg, 'test', 0, cfg.eft.testPairs);
  const ha = collectEftPairs(cfg, 'harder', 0, cfg.eft.harderPairs);
  const si = collectSingles(
    cfg.world,
    t,
    cfg.seed,
    'train',
    tr.next,
    cfg.eft.singles,
    cfg.budget.eft,
    { policy: cfg.eft.policy, explain: cfg.eft.explain },
    Math.min(SCORE_POOL, cfg.pools.loop),
  );
  const recs = (pairs: EftPair[], prefix: string) => pairs.flatMap((p, k) => eftRecords(p, k, t, prefix));
  return {
    base: baseMixed,
    ift,
    eftTrain: recs(tr.pairs, 'eft-train'),
    eftTest: recs(te.pairs, 'eft-test'),
    eftHarder: recs(ha.pairs, 'eft-harder'),
    eftSingle: si.records,
    pools: {
      base: [cfg.pools.base, cfg.pools.base + cfg.base.problems],
      ift: [cfg.pools.ift, cfg.pools.ift + cfg.ift.problems],
      eft: [cfg.pools.eft, tr.next],
      'eft singles': [tr.next, si.next],
      loop: [cfg.pools.loop, Number.MAX_SAFE_INTEGER],
      'test (eft-test)': [0, te.next],
      'harder (eft-harder)': [0, ha.next],
    },
    dropped: { 'eft-train': tr.dropped, 'eft-test': te.dropped, 'eft-harder': ha.dropped, 'eft-single': si.dropped },
  };
}

function lengthOf(r: DataRecord): number {
  return 'text' in r ? r.text.length : r.prompt.length + r.completion.length;
}

function stats(file: string, records: readonly DataRecord[], body: string, budget: number): FileStats {
  const lens = records.map(lengthOf).sort((a, b) => a - b);
  const q = (f: number) => (lens.length ? lens[Math.min(lens.length - 1, Math.floor(f * lens.length))] : 0);
  const mean = lens.length ? lens.reduce((s, x) => s + x, 0) / lens.length : 0;
  return {
    file,
    records: records.length,
    sha256: createHash('sha256').update(body).digest('hex'),
    chars: {
      mean: Math.round(mean * 10) / 10,
      p50: q(0.5),
      p95: q(0.95),
      max: lens.length ? lens[lens.length - 1] : 0,
      over_budget: lens.filter((l) => l > budget).length,
      budget,
    },
  };
}

function histogram(xs: readonly (string | number)[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const x of xs) h[String(x)] = (h[String(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(h).sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b)));
}

function writeAtomic(file: string, body: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, body);
  renameSync(tmp, file);
}

/** Builds everything and writes base.jsonl, ift.jsonl, eft-train.jsonl, eft-test.jsonl, eft-harder.jsonl,
 *  eft-single.jsonl and manifest.json (last). */
export function buildData(cfg: DataConfig, outDir: string): Manifest {
  const d = buildRecords(cfg);
  mkdirSync(outDir, { recursive: true });
  const files: Record<string, FileStats> = {};
  const put = (name: string, records: readonly DataRecord[], budget: number) => {
    const body = toJsonl(records);
    writeAtomic(path.join(outDir, name), body);
    files[name] = stats(name, records, body, budget);
  };
  put('base.jsonl', d.base, cfg.budget.base);
  put('ift.jsonl', d.ift, cfg.budget.ift);
  put('eft-train.jsonl', d.eftTrain, cfg.budget.eft);
  put('eft-test.jsonl', d.eftTest, cfg.budget.eft);
  put('eft-harder.jsonl', d.eftHarder, cfg.budget.eft);
  put('eft-single.jsonl', d.eftSingle, cfg.budget.eft);
  const eftInfo = (rs: EftRecord[]) => ({
    kinds: histogram(rs.filter((r) => r.order === 'AB').map((r) => r.kind)),
    labels: histogram(rs.map((r) => r.label)),
    layers: histogram(rs.map((r) => r.layer)),
  });
  const manifest: Manifest = {
    format: 'psrlm-data',
    version: 1,
    created_by: 'psrlm data build',
    seed: cfg.seed,
    template: cfg.template,
    config: cfg,
    files,
    counts: {
      base_solutions: d.base.filter((r) => r.type === 'solution').length,
      base_practice: d.base.filter((r) => r.type === 'practice').length,
      ift: d.ift.length,
      eft_train_pairs: d.eftTrain.length / 2,
      eft_train: d.eftTrain.length,
      eft_test: d.eftTest.length,
      eft_harder: d.eftHarder.length,
      eft_single: d.eftSingle.length,
      eft_single_wrong: d.eftSingle.filter((r) => !r.ok).length,
    },
    steps: {
      ift: histogram(d.ift.map((r) => r.steps)),
      base: histogram(d.base.filter((r) => r.type === 'solution').map((r) => r.text.split('=').length - 1 + 1)),
    },
    eft: { 'eft-train': eftInfo(d.eftTrain), 'eft-test': eftInfo(d.eftTest), 'eft-harder': eftInfo(d.eftHarder) },
    pools: d.pools,
    eft_dropped_over_budget: d.dropped,
  };
  writeAtomic(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
