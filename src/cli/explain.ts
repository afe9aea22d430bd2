// `psrlm explain <run dir> <question index> [--iteration N]`: one question's step tree with the verdicts
// (src/run/explain.ts).
import { explainRecord, findRecords } from '../run/explain.js';
import { command } from './args.js';

export const run = command(
  {
    name: 'explain',
    summary: "show one question's step tree and verdicts from a run",
    description: 'Question indices are the train-split indices in iter-t/samples.jsonl, e.g. 300000.',
    positionals: [
      { name: 'run dir', type: 'path', exists: 'dir', required: true, help: 'a run directory (psrlm run --out)' },
      { name: 'question index', type: 'int', min: 0, required: true, help: "the question's train-split index" },
    ],
    flags: {
      iteration: { type: 'int', min: 1, help: 'only this iteration', defaultHelp: 'every iteration' },
    },
  },
  async ({ values, positionals: [runDir, index] }) => {
    let found = findRecords(runDir, index);
    if (values.iteration !== undefined) found = found.filter((f) => f.iteration === values.iteration);
    if (!found.length) {
      console.error(`psrlm explain: question ${index} is not in the search records of ${runDir}`);
      return 1;
    }
    console.log(found.map((f) => explainRecord(f.iteration, f.record)).join('\n\n'));
    return 0;
  },
);
