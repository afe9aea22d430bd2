// `psrlm extract`: JSONL on stdin with a string field `text` (a full model output); each line is written
// back with `answer` added: the extracted, normalised answer exactly as the toolkit grades it
// (extract_answer, then strip_string again; src/eval/extract.ts). A stable contract used by other tools.
import { parseArgs } from 'node:util';
import { extractPrediction } from '../eval/extract.js';
import { readJsonl, requireString, writeLine } from './jsonl.js';

const HELP = `usage: psrlm extract [--strict] [--bench NAME] < outputs.jsonl

Reads JSONL with a string field "text" (a full model output) and writes each line back with "answer"
added: the answer extracted and normalised as the Qwen2.5-Math evaluation toolkit does.

  --strict      fix the toolkit's documented normalisation bugs (docs/grading.md)
  --bench NAME  benchmark name for per-benchmark rules (carp_en/minerva_math keep unit words)`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      strict: { type: 'boolean', default: false },
      bench: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) { console.log(HELP); return 0; }
  for await (const { line, obj } of readJsonl(process.stdin)) {
    const text = requireString(obj, 'text', line);
    await writeLine(process.stdout, JSON.stringify({ ...obj, answer: extractPrediction(text, { dataName: values.bench, strict: values.strict }) }));
  }
  return 0;
}
