// Grading throughput on the full MATH test set (5,000 problems): every gold against itself and against
// the next problem's gold (a mix of the string, numeric and symbolic stages), through the timed worker
// pool as `psrlm grade` and `psrlm eval` use it, plus the same pairs in this thread. Prints grades/s;
// the last line is one JSON object. Usage: npm run bench:grade
import { loadBenchmark } from '../src/eval/benchmarks.js';
import { GradePool, gradeSync, type GradeTask } from '../src/eval/grade.js';

const problems = loadBenchmark('math');
const tasks: GradeTask[] = [];
for (let i = 0; i < problems.length; i++) {
  tasks.push({ gold: problems[i].gold, goldNormalized: true, pred: problems[i].gold });
  tasks.push({ gold: problems[(i + 1) % problems.length].gold, goldNormalized: true, pred: problems[i].gold });
}

let t0 = performance.now();
let equalSync = 0;
for (const t of tasks) if (gradeSync(t)) equalSync++;
const syncS = (performance.now() - t0) / 1000;

const result: Record<string, number> = {
  pairs: tasks.length,
  equal: equalSync,
  sync_grades_per_s: Math.round(tasks.length / syncS),
};
for (const workers of [1, 2]) {
  const pool = new GradePool({ workers });
  t0 = performance.now();
  const vs = await pool.gradeAll(tasks);
  const s = (performance.now() - t0) / 1000;
  await pool.close();
  const eq = vs.filter((v) => v.equal).length;
  if (eq !== equalSync) throw new Error(`pool (${workers} workers) gave ${eq} equal verdicts, in-thread ${equalSync}`);
  result[`pool${workers}_grades_per_s`] = Math.round(tasks.length / s);
  result[`pool${workers}_timeouts`] = vs.filter((v) => v.timeout).length;
}
console.log(`full MATH (${problems.length} problems): ${tasks.length} pairs, ${equalSync} equal`);
console.log(
  `in-thread: ${result.sync_grades_per_s} grades/s; pool 1 worker: ${result.pool1_grades_per_s}/s; pool 2 ` +
    `workers: ${result.pool2_grades_per_s}/s`,
);
console.log(JSON.stringify(result));
