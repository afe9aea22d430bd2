// `psrlm explain <run dir> <question index> [--iteration N]`: one question's step tree with the verdicts
// (src/run/explain.ts).
import { parseArgs } from 'node:util';
import { explainRecord, findRecords } from '../run/explain.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { iteration: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help || positionals.length !== 2) {
    console.log('usage: psrlm explain <run dir> <question index> [--iteration N]\n(question indices are the train-split indices in iter-t/samples.jsonl, e.g. 300000)');
    return values.help ? 0 : 2;
  }
  const index = Number(positionals[1]);
  if (!Number.isInteger(index)) { console.error(`psrlm explain: question index must be an integer, got '${positionals[1]}'`); return 2; }
  let found = findRecords(positionals[0]!, index);
  if (values.iteration !== undefined) found = found.filter((f) => f.iteration === Number(values.iteration));
  if (!found.length) { console.error(`psrlm explain: question ${index} is not in the search records of ${positionals[0]}`); return 1; }
  console.log(found.map((f) => explainRecord(f.iteration, f.record)).join('\n\n'));
  return 0;
}
