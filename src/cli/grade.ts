// `psrlm grade`: JSONL on stdin with string fields `gold` and `pred` (a box's content); each line is
// written back with a boolean `equal` added (and `timeout: true` when the comparison hit the time limit).
// A stable contract used by other tools: the verdict is the Qwen2.5-Math toolkit's (src/eval/grade.ts).
import { parseArgs } from 'node:util';
import { GradePool } from '../eval/grade.js';
import { readJsonl, requireString, writeLine } from './jsonl.js';

const HELP = `usage: psrlm grade [--strict] [--bench NAME] [--timeout-ms N] [--workers N] < pairs.jsonl

Reads JSONL with string fields "gold" and "pred" (an answer, as the content of a box) and writes each line
back with a boolean "equal" added, judged as the Qwen2.5-Math evaluation toolkit judges it. A gold that
states its answer (\\boxed{...}, "The answer is ...") is a solution: its answer is read out of it first.

  --strict        fix the toolkit's documented bugs (docs/grading.md) instead of reproducing them
  --bench NAME    benchmark name for per-benchmark rules (carp_en/minerva_math keep unit words)
  --timeout-ms N  limit per comparison (default 3000, the toolkit's); a timeout counts as not equal
  --workers N     grading threads (default 1)`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      strict: { type: 'boolean', default: false },
      bench: { type: 'string' },
      'timeout-ms': { type: 'string', default: '3000' },
      workers: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) { console.log(HELP); return 0; }
  const timeoutMs = Number(values['timeout-ms']);
  const workers = Number(values.workers);
  if (!(timeoutMs > 0)) throw new Error(`--timeout-ms must be a positive number of milliseconds, got '${values['timeout-ms']}'`);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer, got '${values.workers}'`);
  const pool = new GradePool({ strict: values.strict, dataName: values.bench, timeoutMs, workers });
  // Verdicts are awaited in input order while later lines are already queued (bounded window).
  const window: Promise<string>[] = [];
  try {
    for await (const { line, obj } of readJsonl(process.stdin)) {
      const gold = requireString(obj, 'gold', line);
      const pred = requireString(obj, 'pred', line);
      window.push(pool.grade({ gold, pred }).then((v) => JSON.stringify(v.timeout ? { ...obj, equal: v.equal, timeout: true } : { ...obj, equal: v.equal })));
      if (window.length >= 256) await writeLine(process.stdout, await window.shift()!);
    }
    while (window.length > 0) await writeLine(process.stdout, await window.shift()!);
  } finally {
    await pool.close();
  }
  return 0;
}
