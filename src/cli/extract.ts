// `psrlm extract`: JSONL on stdin with a string field `text` (a full model output); each line is written
// back with `answer` added: the extracted, normalised answer exactly as the toolkit grades it
// (extract_answer, then strip_string again; src/eval/extract.ts). A stable contract used by other tools.
import { extractPrediction } from '../eval/extract.js';
import { command } from './args.js';
import { readJsonl, requireString, writeLine } from './jsonl.js';

export const run = command(
  {
    name: 'extract',
    summary: 'extract the normalised answer from JSONL {text} model outputs',
    description: `Reads JSONL on stdin with a string field "text" (a full model output) and writes each line back with
"answer" added: the answer extracted and normalised as the Qwen2.5-Math evaluation toolkit does.`,
    flags: {
      strict: { type: 'boolean', help: "fix the toolkit's documented normalisation bugs (docs/grading.md)" },
      bench: {
        type: 'string',
        metavar: 'NAME',
        help: 'benchmark name for per-benchmark rules (carp_en/minerva_math keep unit words)',
      },
    },
  },
  async ({ values }) => {
    for await (const { line, obj } of readJsonl(process.stdin)) {
      const text = requireString(obj, 'text', line);
      await writeLine(
        process.stdout,
        JSON.stringify({ ...obj, answer: extractPrediction(text, { dataName: values.bench, strict: values.strict }) }),
      );
    }
    return 0;
  },
);
