// Answer extraction from a full model output, in the toolkit's order (docs/grading.md §2.2,
// "extract_answer"): Minerva's "final answer is $…$. I hope", then the LAST "boxed" (brace-matched, nested
// braces kept), then "he answer is", "final answer is", "答案是", and finally the last number. The result is
// cleaned (newlines, a leading ":", one trailing "." and "/") and normalised with strip_string; the
// evaluation pipeline then runs strip_string a second time (the toolkit's run_execute does), which
// `extractPrediction` reproduces.
import { stripString, type NormalizeOptions } from './normalize.js';

/** Benchmarks whose extraction skips unit removal in the toolkit. */
const SKIP_UNIT = new Set(['carp_en', 'minerva_math']);

/** Content of the last `boxed`: brace-matched when it opens with "{", else up to the first "$". */
export function lastBoxed(text: string): string | undefined {
  const at = text.lastIndexOf('boxed');
  if (at < 0) return undefined;
  const rest = text.slice(at + 'boxed'.length);
  if (rest.length === 0) return '';
  if (rest[0] === '{') {
    let depth = 1;
    let out = '';
    for (const c of rest.slice(1)) {
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (depth === 0) break;
      }
      out += c;
    }
    return out; // an unclosed box keeps everything after "{", as the toolkit does
  }
  return rest.split('$')[0].trim();
}

/** The raw answer string before cleaning: the first rule that applies wins. */
export function rawAnswer(text: string, useLastNumber = true): string {
  if (text.includes('final answer is $') && text.includes('$. I hope')) {
    const tail = text.slice(text.indexOf('final answer is $') + 'final answer is $'.length);
    return tail.slice(0, tail.indexOf('$. I hope') >= 0 ? tail.indexOf('$. I hope') : undefined).trim();
  }
  const box = lastBoxed(text);
  if (box !== undefined) return box;
  for (const phrase of ['he answer is', 'final answer is']) {
    const at = text.lastIndexOf(phrase);
    if (at >= 0) return text.slice(at + phrase.length).trim();
  }
  const zh = text.indexOf('答案是');
  // Python's split("答案是")[1]: the text between the first and the second occurrence.
  if (zh >= 0) return text.split('答案是')[1].trim().split('\n\n')[0].trim();
  if (!useLastNumber) return '';
  const nums = text.replaceAll(',', '').match(/-?\d*\.?\d+/g);
  return nums ? nums[nums.length - 1] : '';
}

/** The toolkit's cleanup after choosing the raw answer: drop newlines with their indentation, one leading
 *  ":", one trailing "." and one trailing "/". */
export function cleanAnswer(pred: string): string {
  let p = pred.replace(/\n\s*/g, '');
  if (p.startsWith(':')) p = p.slice(1);
  if (p.endsWith('.')) p = p.slice(0, -1);
  if (p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

export interface ExtractOptions extends NormalizeOptions {
  /** Benchmark name; `carp_en` and `minerva_math` skip unit removal, as in the toolkit. */
  dataName?: string;
  useLastNumber?: boolean;
}

/** `extract_answer(text, data_name)`: the answer, cleaned and normalised once. */
export function extractAnswer(text: string, opts: ExtractOptions = {}): string {
  const t = text.replaceAll('\u043a\u0438', ''); // "ки", a step marker some PRM data carries
  const pred = cleanAnswer(rawAnswer(t, opts.useLastNumber ?? true));
  return stripString(pred, { ...opts, skipUnit: opts.skipUnit ?? SKIP_UNIT.has(opts.dataName ?? '') });
}

/** What the toolkit grades for a model output: extract_answer, then strip_string again (run_execute). */
export function extractPrediction(text: string, opts: ExtractOptions = {}): string {
  const skipUnit = opts.skipUnit ?? SKIP_UNIT.has(opts.dataName ?? '');
  return stripString(extractAnswer(text, { ...opts, skipUnit }), { ...opts, skipUnit });
}

/** A box's content (the `psrlm grade` contract's `pred`) as the toolkit would grade it: the same cleanup
 *  and double normalisation as an answer extracted from `\boxed{pred}`. */
export function normalizeBoxContent(pred: string, opts: ExtractOptions = {}): string {
  const skipUnit = opts.skipUnit ?? SKIP_UNIT.has(opts.dataName ?? '');
  return stripString(stripString(cleanAnswer(pred), { ...opts, skipUnit }), { ...opts, skipUnit });
}
