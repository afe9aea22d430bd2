// Agreement with the toolkit's verdicts on recorded case collections (test/eval/cases/*.jsonl: inputs
// from third-party test suites, each with the verdict the Qwen2.5-Math toolkit itself gave; see the
// README there). Prints the agreement per collection and every disagreement. Usage:
//   npm run build && node dist/bench/agreement.js [file.jsonl ...]
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { caseVerdict, type RecordedCase } from '../src/eval/cases.js';

const dir = fileURLToPath(new URL('../../test/eval/cases/', import.meta.url));
const files =
  process.argv.slice(2).length > 0
    ? process.argv.slice(2)
    : readdirSync(dir)
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => dir + f);
let total = 0;
let agree = 0;
for (const f of files) {
  const rows = readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RecordedCase);
  let a = 0;
  let strings = 0;
  const t0 = performance.now();
  for (const r of rows) {
    const v = caseVerdict(r);
    if (v.gold === r.toolkit_gold && v.pred === r.toolkit_pred) strings++;
    if (v.equal === r.toolkit_equal) a++;
    else {
      const shown = {
        id: r.id,
        mode: r.mode,
        gold: r.gold,
        pred: r.pred ?? r.text?.slice(-80),
        qg: r.toolkit_gold,
        qp: r.toolkit_pred,
        tg: v.gold,
        tp: v.pred,
        toolkit: r.toolkit_equal,
      };
      console.log(`DISAGREE ${JSON.stringify(shown)}`);
    }
  }
  total += rows.length;
  agree += a;
  console.log(
    `${f.split('/').pop()}: verdicts ${a}/${rows.length} = ${((100 * a) / rows.length).toFixed(2)}%, normalised ` +
      `strings identical ${strings}/${rows.length} (${(performance.now() - t0).toFixed(0)} ms)`,
  );
}
console.log(`all: ${agree}/${total} = ${((100 * agree) / total).toFixed(2)}%`);
