// Grading a (gold, prediction) pair under a time limit. The toolkit runs each `math_equal` in a pebble
// process pool with a 3 s timeout and counts a timeout as not equal (docs/grading.md §4). Here each
// comparison runs in a worker thread; the main thread keeps a timer on the comparison at the head of each
// worker's queue, and on expiry terminates that worker (a thread stuck in a loop cannot be interrupted any
// other way), records `equal: false, timeout: true`, and re-sends the rest of its queue to a fresh worker.
// The event loop never blocks on a comparison.
import { Worker } from 'node:worker_threads';
import { mathEqual, type EqualOptions } from './equal.js';
import { extractPrediction, normalizeBoxContent } from './extract.js';
import { stripString } from './normalize.js';

export interface GradeOptions extends EqualOptions {
  /** Benchmark name, for the toolkit's per-benchmark unit rule (carp_en, minerva_math skip units). */
  dataName?: string;
}

export interface GradeTask {
  /** Gold answer as the benchmark gives it (normalised here once, as parse_ground_truth does), or a full
   *  solution holding its answer (read out of it first: `goldAnswer`). */
  gold: string;
  /** Prediction as the content of a box (cleaned and normalised twice, as for an extracted answer). */
  pred: string;
  /** Set when `pred` is already the toolkit's final prediction string (e.g. from extractPrediction). */
  predNormalized?: boolean;
  /** Set when `gold` is already normalised (benchmarks.ts gives golds this way). */
  goldNormalized?: boolean;
}

export interface Verdict {
  equal: boolean;
  timeout: boolean;
}

const SKIP_UNIT = new Set(['carp_en', 'minerva_math']);

// The phrases by which extract_answer finds a stated answer (its rules before the last-number fallback;
// "final answer is" also covers Minerva's "final answer is $…$. I hope").
const ANSWER_MARKERS = ['boxed', 'he answer is', 'final answer is', '答案是'];

/**
 * The gold as the toolkit compares it. A gold that states its answer (a `\boxed{}`, "The answer is …")
 * is a solution, and the toolkit reads the answer out of it (parse_ground_truth's MATH branch:
 * extract_answer, then strip_string); any other gold is the answer itself and is only normalised. The
 * last-number fallback of extract_answer is not applied to golds: it would turn `x+1` into `1`.
 */
export function goldAnswer(gold: string, opts: GradeOptions = {}): string {
  const skipUnit = SKIP_UNIT.has(opts.dataName ?? '');
  if (ANSWER_MARKERS.some((m) => gold.includes(m))) return extractPrediction(gold, { skipUnit, strict: opts.strict });
  return stripString(gold, { skipUnit, strict: opts.strict });
}

/** The strings the toolkit hands to math_equal for a task. */
export function gradeInputs(t: GradeTask, opts: GradeOptions = {}): { pred: string; gold: string } {
  const skipUnit = SKIP_UNIT.has(opts.dataName ?? '');
  return {
    pred: t.predNormalized ? t.pred : normalizeBoxContent(t.pred, { skipUnit, strict: opts.strict }),
    gold: t.goldNormalized ? t.gold : goldAnswer(t.gold, opts),
  };
}

/** Grade in this thread, without a time limit: for tests and for callers that run their own guard. */
export function gradeSync(t: GradeTask, opts: GradeOptions = {}): boolean {
  const { pred, gold } = gradeInputs(t, opts);
  return mathEqual(pred, gold, opts);
}

export interface PoolOptions extends GradeOptions {
  /** Worker threads (default 1, as the toolkit's max_workers=1). */
  workers?: number;
  /** Per-comparison limit in milliseconds (default 3000, the toolkit's). */
  timeoutMs?: number;
  /** Comparisons queued per worker ahead of the running one (throughput; default 64). */
  depth?: number;
}

interface Job {
  id: number;
  task: GradeTask;
  resolve: (v: Verdict) => void;
}
// `ready` turns true when the worker has loaded its modules: the clock on a comparison must not include a
// worker's start-up (a second or more on a busy two-core machine).
interface Slot {
  worker: Worker;
  queue: Job[];
  timer?: NodeJS.Timeout;
  ready: boolean;
}

/** A pool of grading workers. `close()` it when done (workers keep the process alive). */
export class GradePool {
  private slots: Slot[] = [];
  private pending: Job[] = [];
  private nextId = 0;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly depth: number;
  /** Comparisons that hit the time limit so far. */
  timeouts = 0;

  constructor(private readonly opts: PoolOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.depth = Math.max(1, opts.depth ?? 64);
    const n = Math.max(1, opts.workers ?? 1);
    for (let i = 0; i < n; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const { workers: _w, timeoutMs: _t, depth: _d, ...gradeOpts } = this.opts;
    const worker = new Worker(new URL('./grade-worker.js', import.meta.url), { workerData: gradeOpts });
    const slot: Slot = { worker, queue: [], ready: false };
    worker.on('message', (m: { id: number; equal: boolean } | { ready: true }) => {
      if ('ready' in m) {
        slot.ready = true;
        this.armTimer(slot);
      } else this.onResult(slot, m);
    });
    worker.on('error', (err) => this.onCrash(slot, err));
    worker.unref();
    return slot;
  }

  private onResult(slot: Slot, m: { id: number; equal: boolean }): void {
    const head = slot.queue[0];
    if (!head || head.id !== m.id) return; // a late answer from a worker already replaced
    clearTimeout(slot.timer);
    slot.queue.shift();
    head.resolve({ equal: m.equal, timeout: false });
    if (slot.queue.length === 0) slot.worker.unref(); // an idle pool does not keep the process alive
    this.armTimer(slot);
    this.pump();
  }

  private onCrash(slot: Slot, err: unknown): void {
    // A comparison that throws inside the worker is a grader bug, not a verdict: surface it.
    const head = slot.queue.shift();
    if (head) head.resolve({ equal: false, timeout: false });
    process.emitWarning(`grading worker failed (${err instanceof Error ? err.message : String(err)}); restarted it`);
    this.replace(slot);
  }

  private armTimer(slot: Slot): void {
    clearTimeout(slot.timer);
    if (slot.queue.length === 0 || !slot.ready) return;
    slot.timer = setTimeout(() => {
      const head = slot.queue.shift();
      this.timeouts++;
      head?.resolve({ equal: false, timeout: true });
      this.replace(slot);
    }, this.timeoutMs);
  }

  private replace(slot: Slot): void {
    clearTimeout(slot.timer);
    const rest = slot.queue;
    slot.queue = [];
    void slot.worker.terminate();
    const fresh = this.spawn();
    const i = this.slots.indexOf(slot);
    this.slots[i] = fresh;
    this.pending.unshift(...rest);
    this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      while (slot.queue.length < this.depth && this.pending.length > 0) {
        const job = this.pending.shift()!;
        const wasIdle = slot.queue.length === 0;
        slot.queue.push(job);
        slot.worker.ref();
        slot.worker.postMessage({ id: job.id, task: job.task });
        if (wasIdle) this.armTimer(slot);
      }
    }
  }

  /** Grade one pair; resolves with the verdict (a timeout is `equal: false, timeout: true`). */
  grade(task: GradeTask): Promise<Verdict> {
    if (this.closed) return Promise.reject(new Error('GradePool is closed; create a new pool to grade more pairs'));
    return new Promise((resolve) => {
      this.pending.push({ id: this.nextId++, task, resolve });
      this.pump();
    });
  }

  gradeAll(tasks: GradeTask[]): Promise<Verdict[]> {
    return Promise.all(tasks.map((t) => this.grade(t)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) clearTimeout(s.timer);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
