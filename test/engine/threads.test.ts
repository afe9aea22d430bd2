// The thread pool's failure detection: the calling thread blocks while the worker runs its half of a
// kernel call, so a worker that never loads or dies mid-call must surface as an error that names the
// worker's file and says to rebuild, never as a hang. Each case gets a worker module that is broken in
// one way (written to a temporary folder); the test's own time limit turns a hang into a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Heap } from '../../src/engine/memory.js';
import { CTL, ThreadPool } from '../../src/engine/threads.js';

const N = 4096;

/** A pool whose worker is `source` (an ES module), and a buffer for a split call of `zero`. */
function brokenPool(dir: string, name: string, source: string | undefined) {
  const file = path.join(dir, name);
  if (source !== undefined) writeFileSync(file, source);
  const heap = new Heap();
  const pool = new ThreadPool(heap, 2, { workerUrl: pathToFileURL(file), kernels: 'wasm' });
  const buf = heap.allocF32(N);
  return { file, pool, split: () => pool.run('zero', [buf], N, 1, 2) };
}

function expectFailure(split: () => void, file: string, what: RegExp): Error {
  let err: Error | undefined;
  try {
    split();
  } catch (e) {
    err = e as Error;
  }
  assert.ok(err, 'the split call should have thrown');
  assert.match(err.message, what);
  assert.ok(err.message.includes(file), `the error names the worker's file: ${err.message}`);
  assert.match(err.message, /npm run build/);
  return err;
}

test('a worker module that throws on load fails the first split call with its reason', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-threads-'));
  const { file, pool, split } = brokenPool(dir, 'throws.mjs', "throw new Error('kernels are not here');\n");
  try {
    const err = expectFailure(split, file, /failed to load: .*kernels are not here/);
    assert.equal(expectFailure(split, file, /failed to load/), err, 'later split calls fail the same way');
  } finally {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing worker module fails the first split call', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-threads-'));
  const { file, pool, split } = brokenPool(dir, 'missing.mjs', undefined);
  try {
    expectFailure(split, file, /failed to load|stopped before it started|could not be created/);
  } finally {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker that dies in the middle of a call fails that call', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-threads-'));
  // Starts like the real worker (says RUNNING), then exits as soon as a call is handed to it.
  const source = `import { workerData } from 'node:worker_threads';
const ctl = new Int32Array(workerData.sab, 0, 16);
Atomics.store(ctl, ${CTL.STATE}, 1);
while (Atomics.load(ctl, ${CTL.SEQ}) === 0) Atomics.wait(ctl, ${CTL.SEQ}, 0, 50);
process.exit(3);
`;
  const { file, pool, split } = brokenPool(dir, 'exits.mjs', source);
  try {
    expectFailure(split, file, /stopped \(exit code 3\)/);
  } finally {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real worker starts and runs its half of a split call', { timeout: 30_000 }, () => {
  const heap = new Heap();
  const pool = new ThreadPool(heap, 2, { kernels: 'wasm' });
  try {
    const buf = heap.allocF32(N);
    heap.writeF32(buf, new Float32Array(N).fill(1));
    pool.run('zero', [buf], N, 1, 2);
    assert.equal(pool.splitCalls, 1);
    assert.ok(
      heap.readF32(buf, N).every((x) => x === 0),
      'both halves were zeroed',
    );
  } finally {
    pool.close();
  }
});
