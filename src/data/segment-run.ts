// `psrlm data segment`: IFT records from a JSONL of problems with worked solutions (paper §3.2, Fig. 3),
// by the deterministic GSM8K segmenter or by a model through any engine, every output validated
// (src/data/segment.ts). Valid items go to --out as IFT records under the step prompt; rejected ones to
// <out>.rejected.jsonl with their reason; <out>.manifest.json (written last) counts both by reason.
// Resumable: items already in either file are skipped, and both files are appended one item at a time.
// A remote engine's calls go through its call cache (`cache=` in the spec; added as <out>.calls.jsonl
// when the spec has none), so a resumed or repeated run pays for no call twice.
import { readFileSync } from 'node:fs';
import { writeJSONAtomic } from '../util/atomic.js';
import { appendJsonl, readResumableJsonl } from '../util/resumable-jsonl.js';
import type { Engine } from '../engine/types.js';
import { loadTemplate, renderSegmentPrompt, renderStepPrompt } from './templates.js';
import { gsm8kGold, segmentGsm8k, validateSegmentation, type SegmentSource } from './segment.js';

export interface SegmentRunOptions {
  input: string;
  out: string;
  /** 'gsm8k' (deterministic) or an engine (model-based). */
  segmenter?: 'gsm8k';
  engine?: Engine;
  template: string;
  /** Items per engine call batch. */
  batch: number;
  max_tokens: number;
  limit?: number;
  log?: (s: string) => void;
}

/** Reads a source item: GSM8K ({question, answer: "…#### N"}) or MATH-like ({problem, solution, answer}). */
export function sourceOf(raw: Record<string, unknown>, i: number): SegmentSource {
  const q = (raw.question ?? raw.problem) as string | undefined;
  const id = String(raw.id ?? raw.idx ?? raw.unique_id ?? i);
  if (typeof q !== 'string') throw new Error(`item ${i}: no 'question' or 'problem' field`);
  if (typeof raw.solution === 'string') {
    const gold = raw.answer;
    if (typeof gold !== 'string' && typeof gold !== 'number')
      throw new Error(`item ${i}: a 'solution' needs an 'answer'`);
    return { id, question: q, solution: raw.solution, gold: String(gold) };
  }
  if (typeof raw.answer === 'string') {
    const gold = gsm8kGold(raw.answer);
    if (gold === null)
      throw new Error(`item ${i}: 'answer' has no '#### N' line (GSM8K layout) and there is no 'solution'`);
    return { id, question: q, solution: raw.answer, gold };
  }
  throw new Error(`item ${i}: expected {question, answer: "...#### N"} (GSM8K) or {problem, solution, answer}`);
}

const readIds = (f: string) => readResumableJsonl<{ id: unknown }>(f).map((r) => String(r.id));

export async function runSegment(
  o: SegmentRunOptions,
): Promise<{ kept: number; rejected: Record<string, number>; skipped: number }> {
  if (!o.segmenter && !o.engine) throw new Error('data segment: give --segmenter gsm8k or --engine <spec>');
  const t = loadTemplate(o.template);
  const lines = readFileSync(o.input, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  let items = lines.map((l, i) => sourceOf(JSON.parse(l) as Record<string, unknown>, i));
  if (o.limit !== undefined) items = items.slice(0, o.limit);
  const rejFile = `${o.out}.rejected.jsonl`;
  const done = new Set([...readIds(o.out), ...readIds(rejFile)]);
  const todo = items.filter((s) => !done.has(s.id));
  const counts: Record<string, number> = {};
  const record = (s: SegmentSource, output: string | null) => {
    const c =
      output === null
        ? { ok: false as const, reason: 'no_steps' as const, detail: 'the segmenter gave nothing', steps: [] }
        : validateSegmentation(s, output);
    if (c.ok) {
      appendJsonl(o.out, [
        {
          id: s.id,
          question: s.question,
          gold: s.gold,
          prompt: renderStepPrompt(t, s.question),
          completion: output!.endsWith('\n') ? output : output + '\n',
          eos: true,
          steps: c.steps.length,
        },
      ]);
    } else {
      appendJsonl(rejFile, [{ id: s.id, reason: c.reason, detail: c.detail, output }]);
    }
  };
  for (let k = 0; k < todo.length; k += o.batch) {
    const batch = todo.slice(k, k + o.batch);
    if (o.segmenter === 'gsm8k') {
      for (const s of batch) record(s, segmentGsm8k(s.solution));
    } else {
      const prompts = batch.map((s) => renderSegmentPrompt(t, s.question, s.solution));
      const outs = await o.engine!.generate(prompts, { n: 1, temperature: 0, max_tokens: o.max_tokens, seed: 0 });
      batch.forEach((s, i) => record(s, outs[i]![0]!.text));
    }
    o.log?.(`segmented ${Math.min(k + o.batch, todo.length)} / ${todo.length}`);
  }
  // the counts cover the whole output (earlier attempts included), read back from the files
  const kept = readIds(o.out).length;
  for (const { reason } of readResumableJsonl<{ reason: string }>(rejFile)) counts[reason] = (counts[reason] ?? 0) + 1;
  writeJSONAtomic(`${o.out}.manifest.json`, {
    format: 'psrlm-segment',
    input: o.input,
    segmenter: o.segmenter ?? o.engine!.name,
    template: o.template,
    items: items.length,
    kept,
    rejected: counts,
    skipped_as_done: done.size,
  });
  return { kept, rejected: counts, skipped: done.size };
}
