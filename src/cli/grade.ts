// `psrlm grade`: JSONL on stdin with string fields `gold` and `pred` (a box's content); each line is
// written back with a boolean `equal` added (and `timeout: true` when the comparison hit the time limit).
// A stable contract used by other tools: the verdict is the Qwen2.5-Math toolkit's (src/eval/grade.ts).
import { GradePool } from '../eval/grade.js';
import { command } from './args.js';
import { readJsonl, requireString, writeLine } from './jsonl.js';

export const run = command(
  {
    name: 'grade',
    summary: 'grade JSONL {gold, pred} pairs as the Qwen2.5-Math toolkit does',
    description:
      `Reads JSONL on stdin with string fields "gold" and "pred" (an answer, as the content of a box) and
writes each line back with a boolean "equal" added, judged as the Qwen2.5-Math evaluation toolkit judges it. A ` +
      `gold that states its answer
(\\boxed{...}, "The answer is ...") is a solution: its answer is read out of it first.`,
    flags: {
      strict: {
        type: 'boolean',
        help: "fix the toolkit's documented bugs (docs/grading.md) instead of reproducing them",
      },
      bench: {
        type: 'string',
        metavar: 'NAME',
        help: 'benchmark name for per-benchmark rules (carp_en/minerva_math keep unit words)',
      },
      'timeout-ms': {
        type: 'number',
        above: 0,
        default: 3000,
        help: "limit per comparison (3000 is the toolkit's); a timeout counts as not equal",
      },
      workers: { type: 'int', min: 1, default: 1, help: 'grading threads' },
    },
  },
  async ({ values }) => {
    const timeoutMs = values['timeout-ms'],
      workers = values.workers;
    const pool = new GradePool({ strict: values.strict, dataName: values.bench, timeoutMs, workers });
    // Verdicts are awaited in input order while later lines are already queued (bounded window).
    const window: Promise<string>[] = [];
    try {
      for await (const { line, obj } of readJsonl(process.stdin)) {
        const gold = requireString(obj, 'gold', line);
        const pred = requireString(obj, 'pred', line);
        window.push(
          pool
            .grade({ gold, pred })
            .then((v) =>
              JSON.stringify(v.timeout ? { ...obj, equal: v.equal, timeout: true } : { ...obj, equal: v.equal }),
            ),
        );
        if (window.length >= 256) await writeLine(process.stdout, await window.shift()!);
      }
      while (window.length > 0) await writeLine(process.stdout, await window.shift()!);
    } finally {
      await pool.close();
    }
    return 0;
  },
);
