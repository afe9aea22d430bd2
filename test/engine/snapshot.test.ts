// Mid-run training snapshots (src/engine/snapshot.ts): SFT and DPO interrupted after a snapshot and
// resumed in a fresh engine end with the weights, AdamW moments and step count, history and loss of an
// uninterrupted call, bit for bit; a snapshot taken after the last step makes a rerun train nothing; a
// snapshot of another job (other seed, data or starting weights, IFT replay or not) is logged and not used. The
// interruption is an exception thrown from onStep, which leaves the process as a kill would: whatever
// is on disk, nothing else (the pretrain test kills a real process). Resuming is checked on each kernel
// path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { readSafetensors } from '../../src/engine/safetensors.js';
import { SNAPSHOT_FILE } from '../../src/engine/snapshot.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import type {
  DPOOptions,
  PreferencePair,
  SFTExample,
  StepInfo,
  TrainOptions,
  TrainResult,
} from '../../src/engine/types.js';
import type { KernelPath } from '../../src/engine/native.js';
import { eachPath } from './helpers.js';

const SMALL = { n_layer: 2, n_embd: 32, n_head: 4, n_ctx: 64 };

const sftData: SFTExample[] = [];
for (let a = 0; a < 6; a++) for (let b = 0; b < 5; b++) sftData.push({ prompt: `${a}+${b}=`, completion: `${a + b};` });
// 3 epochs of 30 examples in steps of 4 (the last of each epoch short): 24 steps
const sftOpts: TrainOptions = { epochs: 3, lr: 1e-2, batch_size: 4, seed: 5, warmup_frac: 0.1 };

const dpoData: PreferencePair[] = [];
for (let a = 0; a < 4; a++)
  for (let b = 0; b < 3; b++) {
    dpoData.push({ prompt: `${a}+${b}=`, chosen: `${a + b}`, rejected: `${a + b + 1}`, final: (a + b) % 2 === 0 });
  }

class Stop extends Error {}

async function engineWith<T>(seed: number, fn: (e: EmbeddedEngine) => Promise<T>, kernels?: KernelPath): Promise<T> {
  const e = EmbeddedEngine.create(SMALL, Tokenizer.ascii(), seed, { kernels });
  try {
    return await fn(e);
  } finally {
    await e.close();
  }
}
const withEngine = <T>(seed: number, fn: (e: EmbeddedEngine) => Promise<T>): Promise<T> => engineWith(seed, fn);

function bytes(w: Float32Array): Buffer {
  return Buffer.from(w.buffer, w.byteOffset, w.byteLength);
}

/** The last snapshot in `dir`: buffers as bytes, state without the wall time. */
function snapshotOf(dir: string): { params: Buffer; m: Buffer; v: Buffer; state: Record<string, unknown> } {
  const { tensors, metadata } = readSafetensors(path.join(dir, SNAPSHOT_FILE));
  const { wall_s: _w, ...state } = JSON.parse(metadata.state!) as Record<string, unknown>;
  return {
    params: bytes(tensors.get('params')!.data),
    m: bytes(tensors.get('adam.m')!.data),
    v: bytes(tensors.get('adam.v')!.data),
    state,
  };
}

/** Drops wall time, the one figure that may differ. */
function same(r: TrainResult): Omit<TrainResult, 'wall_s'> {
  const { wall_s: _w, ...rest } = r;
  return rest;
}

// DPO with IFT replay: the SFT examples as the pool, 2 records drawn for a step of 3 pairs
const replay = { examples: sftData, weight: 0.5, per_pair: 0.5 };

type Kind = 'sft' | 'dpo' | 'dpo+replay';
function train(e: EmbeddedEngine, kind: Kind, opts: TrainOptions): Promise<TrainResult> {
  if (kind === 'sft') return e.trainSFT(sftData, opts);
  return e.trainDPO(dpoData, { ...opts, beta: 0.5, ...(kind === 'dpo+replay' ? { replay } : {}) });
}

for (const kind of ['sft', 'dpo', 'dpo+replay'] as const) {
  eachPath(
    `${kind}: interrupted after a snapshot and resumed in a fresh engine equals the uninterrupted run, bit for bit`,
    async (kernels) => {
      const withEngine = <T>(seed: number, fn: (e: EmbeddedEngine) => Promise<T>) => engineWith(seed, fn, kernels);
      const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-snap-'));
      try {
        const A = path.join(dir, 'A'),
          B = path.join(dir, 'B');
        const opts: TrainOptions = kind === 'sft' ? sftOpts : { epochs: 4, lr: 5e-3, batch_size: 3, seed: 2 };
        // uninterrupted, without snapshots and with them: snapshots do not change the result
        const plain = await withEngine(1, async (e) => ({ r: await train(e, kind, opts), w: bytes(e.weights()) }));
        const full = await withEngine(1, async (e) => ({
          r: await train(e, kind, { ...opts, snapshot: { dir: A, every: 5 } }),
          w: bytes(e.weights()),
        }));
        assert.ok(full.w.equals(plain.w), 'writing snapshots changed the weights');
        assert.deepEqual(same(full.r), same(plain.r));
        const S = plain.r.steps;
        assert.ok(S >= 12, `${S} steps`);

        // interrupted at step 12 (snapshot at step 10), in an engine that then goes away
        const seen: number[] = [];
        await assert.rejects(
          withEngine(1, (e) =>
            train(e, kind, {
              ...opts,
              snapshot: { dir: B, every: 5 },
              onStep: (s) => {
                seen.push(s.step);
                if (s.step === 12) throw new Stop('killed');
              },
            }),
          ),
          Stop,
        );
        assert.equal(seen.length, 12);
        assert.equal(snapshotOf(B).state.step, 10);

        // what a kill during a snapshot write leaves behind: removed on resume, never read
        const stray = path.join(B, `.${SNAPSHOT_FILE}.999.0.tmp`);
        writeFileSync(stray, 'torn');
        // resumed in a fresh engine (same starting weights): steps 11..S only, then the same everything
        const resumed: Array<[number, number]> = [],
          stepped: StepInfo[] = [],
          logged: string[] = [];
        const res = await withEngine(1, async (e) => ({
          r: await train(e, kind, {
            ...opts,
            onStep: (s) => stepped.push(s),
            snapshot: { dir: B, every: 5, log: (l) => logged.push(l), onResume: (k, n) => resumed.push([k, n]) },
          }),
          w: bytes(e.weights()),
        }));
        assert.deepEqual(resumed, [[10, S]]);
        assert.deepEqual(logged, []);
        assert.ok(!existsSync(stray), 'the stray temporary file is removed');
        assert.deepEqual(
          stepped.map((s) => s.step),
          Array.from({ length: S - 10 }, (_, i) => 11 + i),
        );
        assert.ok(res.w.equals(plain.w), 'resumed weights differ from the uninterrupted run');
        assert.deepEqual(same(res.r), same(plain.r), 'history, tokens or final loss differ');
        assert.equal(res.r.final_loss, plain.r.final_loss);
        // optimizer state after the last step: moments and step count as well as the weights
        const a = snapshotOf(A),
          b = snapshotOf(B);
        assert.equal(a.state.step, S);
        assert.equal(a.state.t, S);
        assert.ok(b.params.equals(a.params) && b.params.equals(plain.w), 'final snapshot weights differ');
        assert.ok(b.m.equals(a.m), 'AdamW m differs');
        assert.ok(b.v.equals(a.v), 'AdamW v differs');
        assert.deepEqual(b.state, a.state);

        // the snapshot after the last step: the same call again trains nothing and returns the same result
        const again: Array<[number, number]> = [];
        let steps = 0;
        const fin = await withEngine(1, async (e) => ({
          r: await train(e, kind, {
            ...opts,
            onStep: () => steps++,
            snapshot: { dir: B, every: 5, onResume: (k, n) => again.push([k, n]) },
          }),
          w: bytes(e.weights()),
        }));
        assert.deepEqual(again, [[S, S]]);
        assert.equal(steps, 0);
        assert.ok(fin.w.equals(plain.w));
        assert.deepEqual(same(fin.r), same(plain.r));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

test('a snapshot of a different job (seed, data, starting weights) is logged and not used', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-snap-'));
  try {
    const others: Array<{ what: string; seed: number; data: SFTExample[]; opts: TrainOptions }> = [
      { what: 'another seed', seed: 1, data: sftData, opts: { ...sftOpts, seed: 6 } },
      {
        what: 'other data',
        seed: 1,
        data: sftData.map((x, i) => (i === 7 ? { ...x, completion: x.completion + ' ' } : x)),
        opts: sftOpts,
      },
      { what: 'other starting weights', seed: 2, data: sftData, opts: sftOpts },
      { what: 'another learning rate', seed: 1, data: sftData, opts: { ...sftOpts, lr: 2e-2 } },
    ];
    for (const o of others) {
      const want = await withEngine(o.seed, async (e) => {
        await e.trainSFT(o.data, o.opts);
        return bytes(e.weights());
      });
      // a fresh snapshot at step 10 of the reference job each time (the run below replaces it with its own)
      const dirO = path.join(dir, o.what.replace(/ /g, '-'));
      rmSync(dirO, { recursive: true, force: true });
      await assert.rejects(
        withEngine(1, (e) =>
          e.trainSFT(sftData, {
            ...sftOpts,
            snapshot: { dir: dirO, every: 5 },
            onStep: (s) => {
              if (s.step === 10) throw new Stop('killed');
            },
          }),
        ),
        Stop,
      );
      const logged: string[] = [],
        resumed: number[] = [];
      const got = await withEngine(o.seed, async (e) => {
        await e.trainSFT(o.data, {
          ...o.opts,
          snapshot: { dir: dirO, every: 5, log: (l) => logged.push(l), onResume: (k) => resumed.push(k) },
        });
        return bytes(e.weights());
      });
      assert.deepEqual(resumed, [], `${o.what}: the snapshot was used`);
      assert.equal(logged.length, 1, `${o.what}: ${logged.join('\n')}`);
      assert.match(logged[0]!, /different training job.*ignoring it/);
      assert.ok(got.equals(want), `${o.what}: training from the start gives other weights`);
      // and the directory now holds this job's own final snapshot
      assert.equal(snapshotOf(dirO).state.step, snapshotOf(dirO).state.steps);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a DPO snapshot is not used by the same DPO with IFT replay, nor by replay with another weight', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-snap-'));
  try {
    const opts: TrainOptions = { epochs: 4, lr: 5e-3, batch_size: 3, seed: 2 };
    const cases: Array<[string, Partial<DPOOptions>, Partial<DPOOptions>]> = [
      ['plain, then replay', {}, { replay }],
      ['replay, then another weight', { replay }, { replay: { ...replay, weight: 0.25 } }],
      ['replay, then other records per pair', { replay }, { replay: { ...replay, per_pair: 1 } }],
    ];
    for (const [what, first, second] of cases) {
      const d = path.join(dir, what.replace(/\W+/g, '-'));
      await assert.rejects(
        withEngine(1, (e) =>
          e.trainDPO(dpoData, {
            ...opts,
            beta: 0.5,
            ...first,
            snapshot: { dir: d, every: 5 },
            onStep: (s) => {
              if (s.step === 10) throw new Stop('killed');
            },
          }),
        ),
        Stop,
      );
      const logged: string[] = [],
        resumed: number[] = [];
      await withEngine(1, (e) =>
        e.trainDPO(dpoData, {
          ...opts,
          beta: 0.5,
          ...second,
          snapshot: { dir: d, every: 5, log: (l) => logged.push(l), onResume: (k) => resumed.push(k) },
        }),
      );
      assert.deepEqual(resumed, [], `${what}: the snapshot was used`);
      assert.equal(logged.length, 1, `${what}: ${logged.join('\n')}`);
      assert.match(logged[0]!, /different training job/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshot options are checked', async () => {
  await withEngine(1, async (e) => {
    await assert.rejects(
      e.trainSFT(sftData, { ...sftOpts, snapshot: { dir: '/tmp/x', every: 0 } }),
      /snapshot.every must be a positive integer/,
    );
    await assert.rejects(e.trainSFT(sftData, { ...sftOpts, snapshot: { dir: '', every: 3 } }), /snapshot.dir is empty/);
  });
});
