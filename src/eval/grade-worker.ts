// Worker thread body for GradePool (grade.ts): grades the tasks it is sent, one at a time, in order. It
// can be terminated mid-comparison by the pool when a comparison exceeds the time limit. A test hook
// (gold "__psrlm_hang__") loops forever so that the timeout path can be tested without a slow input.
import { parentPort, workerData } from 'node:worker_threads';
import { gradeSync, type GradeOptions, type GradeTask } from './grade.js';

const opts = workerData as GradeOptions;

parentPort?.on('message', (m: { id: number; task: GradeTask }) => {
  if (m.task.gold === '__psrlm_hang__')
    for (;;) {
      /* never returns: exercised by the timeout test */
    }
  const equal = gradeSync(m.task, opts);
  parentPort?.postMessage({ id: m.id, equal });
});
parentPort?.postMessage({ ready: true });
