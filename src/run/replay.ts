// The pool of IFT records that `dpo.replay` draws from (src/train/stepdpo.ts; not the paper's method, off by
// default). Resolved once per run, before the first search, so that a bad file fails at once rather than
// after an iteration's search:
// - `dpo.replay.file`: a JSONL of {prompt, completion, eos?} records (eos defaults to true, as in SFT);
// - otherwise, on the synthetic world, the IFT records the starting model was SFT-trained on, regenerated
//   from the world's train split with the run's data seed by the same generator (src/data/ift.ts): the
//   range its manifest names (`data.config`, written by `psrlm pretrain`), or the data defaults' IFT range
//   when the starting model has no such manifest. Regenerating is exact because every record derives from
//   (seed, pool, index) alone (src/data/build.ts).
// Runs on questions from a file have no world IFT data; the config check asks them for a file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataConfig } from '../data/build.js';
import { iftRecord } from '../data/ift.js';
import { loadTemplate } from '../data/templates.js';
import type { SFTExample } from '../engine/types.js';
import type { ReplayPool } from '../train/stepdpo.js';
import { generateProblem } from '../world/generator.js';
import type { RunConfig } from './config.js';

/** Reads a replay file: one JSON object a line with a non-empty `prompt` and `completion`, `eos` optional. */
export function readReplayFile(file: string): SFTExample[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`dpo.replay.file: cannot read ${file} (${(e as Error).message})`);
  }
  const out: SFTExample[] = [];
  text.split('\n').forEach((line, n) => {
    if (!line.trim()) return;
    const where = `dpo.replay.file ${file}:${n + 1}`;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${where}: not JSON (${(e as Error).message})`);
    }
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error(`${where}: not a JSON object`);
    for (const k of ['prompt', 'completion'] as const)
      if (typeof r[k] !== 'string' || !r[k]) throw new Error(`${where}: '${k}' must be a non-empty string`);
    if (r.eos !== undefined && typeof r.eos !== 'boolean') throw new Error(`${where}: 'eos' must be true or false`);
    out.push({ prompt: r.prompt as string, completion: r.completion as string, eos: (r.eos as boolean) ?? true });
  });
  if (out.length === 0) throw new Error(`dpo.replay.file: ${file} holds no records`);
  return out;
}

/** The train-split range [from, from + count) of the IFT records the starting model was trained on. */
export function iftRange(cfg: RunConfig, data: DataConfig): { from: number; count: number; whence: string } {
  let m: {
    data?: { config?: { seed?: number; template?: string; pools?: { ift?: number }; ift?: { problems?: number } } };
  };
  try {
    m = JSON.parse(readFileSync(path.join(cfg.model, 'manifest.json'), 'utf8')) as typeof m;
  } catch {
    m = {};
  }
  const d = m.data?.config;
  const from = d?.pools?.ift,
    count = d?.ift?.problems;
  // the starting model's own data, when it was built on this run's world and template
  if (d?.seed === data.seed && d.template === data.template && Number.isInteger(from) && Number.isInteger(count))
    return { from: from!, count: count!, whence: "the starting model's manifest" };
  return {
    from: data.pools.ift,
    count: data.ift.problems,
    whence: 'the data defaults (no data config in the starting model)',
  };
}

/** The replay pool of a run with `dpo.replay` set. */
export function replayPool(cfg: RunConfig, data: DataConfig): ReplayPool {
  const rc = cfg.dpo.replay;
  if (!rc) throw new Error('replayPool: dpo.replay is not set');
  if (rc.file) {
    const records = readReplayFile(rc.file);
    return { records, source: `file ${rc.file}` };
  }
  if (cfg.questions)
    throw new Error('dpo.replay: questions from a file have no world IFT data to replay; give dpo.replay.file');
  const { from, count, whence } = iftRange(cfg, data);
  const t = loadTemplate(data.template);
  const records: SFTExample[] = [];
  for (let i = 0; i < count; i++) {
    const r = iftRecord(generateProblem(data.world, 'train', from + i), t, data.ift.written);
    records.push({ prompt: r.prompt, completion: r.completion, eos: r.eos });
  }
  return {
    records,
    source:
      `world IFT records: train problems ${from}..${from + count - 1}, data seed ${data.seed}, template ` +
      `${data.template} (range from ${whence})`,
  };
}
