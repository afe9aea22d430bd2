// Small oracles: the learning-rate schedule and one AdamW step against the formulas of docs/engine.md
// computed in float64, the tokenizer, safetensors encoding, coordinate-derived seeds and the heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, scheduleLR } from '../../src/engine/optimizer.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/engine/safetensors.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { deriveSeed, Rng } from '../../src/engine/rng.js';
import { Heap } from '../../src/engine/memory.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { tinyModel } from './helpers.js';

test('schedule: linear warmup then cosine to the floor', () => {
  assert.equal(scheduleLR(1, 100, 10, 1, 0.1), 0.1);
  assert.equal(scheduleLR(10, 100, 10, 1, 0.1), 1);
  assert.ok(Math.abs(scheduleLR(55, 100, 10, 1, 0.1) - (0.1 + 0.9 * 0.5)) < 1e-12);
  assert.ok(Math.abs(scheduleLR(100, 100, 10, 1, 0.1) - 0.1) < 1e-12);
  assert.equal(scheduleLR(1, 1, 0, 2, 0), 0, 'a single step with no warmup is the end of the cosine');
});

test('one AdamW step with clipping and decoupled decay matches float64', () => {
  const { model, heap, pool } = tinyModel();
  try {
    const n = model.layout.total;
    const r = new Rng(3);
    const g = new Float32Array(n).map(() => r.normal());
    heap.writeF32(model.grads, g);
    const p0 = heap.readF32(model.params, n);
    const opt = new AdamW(model);
    const cfg = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1, grad_clip: 1.0 };
    const norm = opt.step(0.01, cfg);
    const ref = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
    assert.ok(Math.abs(norm - ref) / ref < 1e-5, `grad norm ${norm} vs ${ref}`);
    const p1 = heap.readF32(model.params, n);
    const scale = 1 / ref;
    for (const prm of model.layout.params) {
      for (const i of [0, prm.size - 1]) {
        const k = prm.offset + i;
        const gi = g[k]! * scale;
        const m = 0.1 * gi,
          v = 0.05 * gi * gi;
        const mh = m / 0.1,
          vh = v / 0.05;
        const wd = prm.decay ? 0.1 : 0;
        const want = p0[k]! * (1 - 0.01 * wd) - (0.01 * mh) / (Math.sqrt(vh) + 1e-8);
        assert.ok(Math.abs(p1[k]! - want) < 1e-6 * (1 + Math.abs(want)), `${prm.name}[${i}]: ${p1[k]} vs ${want}`);
      }
    }
    opt.release();
  } finally {
    pool.close();
  }
});

test('tokenizer: round trip, specials never from text, unknown characters named', () => {
  const t = Tokenizer.ascii();
  const s = 'Step 1: 12+7=19\n\\boxed{19}';
  assert.equal(t.decode(t.encode(s)), s);
  assert.equal(t.encode('<|eos|>').length, 7, 'the special token text encodes as characters');
  assert.equal(t.decode([t.eos, ...t.encode('a'), t.pad]), 'a');
  assert.throws(() => t.encode('3 × 4'), /U\+00D7/);
  const multi = new Tokenizer({
    type: 'psrlm-char',
    version: 1,
    tokens: ['<e>', '<p>', 'a', 'b', 'ab', 'Step'],
    special: { eos: 0, pad: 1 },
  });
  assert.deepEqual(multi.encode('abab'), [4, 4], 'greedy longest match');
  assert.throws(
    () =>
      new Tokenizer({ type: 'psrlm-char', version: 1, tokens: ['<e>', '<p>', 'a', 'a'], special: { eos: 0, pad: 1 } }),
    /twice/,
  );
});

test('safetensors: round trip, alignment, and clear errors', () => {
  const tensors = new Map([
    ['a', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['b.c', { shape: [1], data: Float32Array.from([-0.5]) }],
  ]);
  const buf = encodeSafetensors(tensors, { k: 'v' });
  assert.equal(Number(buf.readBigUInt64LE(0)) % 8, 0);
  const back = decodeSafetensors(buf);
  assert.deepEqual(back.metadata, { k: 'v' });
  assert.deepEqual(back.tensors.get('a'), tensors.get('a'));
  assert.deepEqual(back.tensors.get('b.c'), tensors.get('b.c'));
  const header = Buffer.from(JSON.stringify({ x: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }));
  const bad = Buffer.concat([Buffer.alloc(8), header, Buffer.alloc(2)]);
  bad.writeBigUInt64LE(BigInt(header.length), 0);
  assert.throws(() => decodeSafetensors(bad), /F16/);
  assert.throws(() => decodeSafetensors(Buffer.alloc(4)), /too short/);
});

test('seeds derive from coordinates: stable, order-sensitive, well spread', () => {
  assert.equal(deriveSeed(1, 2, 3), deriveSeed(1, 2, 3));
  assert.notEqual(deriveSeed(1, 2, 3), deriveSeed(1, 3, 2));
  assert.notEqual(deriveSeed('a', 1), deriveSeed('b', 1));
  const r = new Rng(deriveSeed(7, 0));
  let s = 0;
  for (let i = 0; i < 10000; i++) s += r.next();
  assert.ok(Math.abs(s / 10000 - 0.5) < 0.02);
});

test('heap: reuse after release, coalescing, zeroed calloc', () => {
  const h = new Heap(1 << 20);
  const a = h.alloc(1000),
    b = h.alloc(1000),
    c = h.alloc(1000);
  h.release(b);
  assert.equal(h.alloc(900), b, 'a freed block is reused');
  h.release(a);
  h.release(b);
  const d = h.alloc(2000);
  assert.equal(d, a, 'neighbouring free blocks coalesce');
  h.u8().fill(7, c, c + 1000);
  h.release(c);
  const z = h.calloc(1000);
  assert.ok(
    h
      .u8()
      .subarray(z, z + 1000)
      .every((v) => v === 0),
  );
  assert.throws(() => h.release(12345), /unknown pointer/);
  const big = h.alloc(64 << 20);
  assert.ok(h.memory.buffer.byteLength >= big + (64 << 20), 'memory grows on demand');
});

test('heap and decoding past 2 GiB: pointers above 2^31 address the right floats', async () => {
  // the heap may grow to 4 GiB (wasm32); a pointer above 2^31 turned negative by a signed shift once made a
  // large sampling call fail with "offset is out of bounds"
  const h = new Heap(1 << 20);
  const filler = h.alloc(2 ** 31);
  const p = h.alloc(64);
  assert.ok(p >= 2 ** 31, `the block lies above 2 GiB (${p})`);
  h.writeF32(p, Float32Array.from([1.5, -2, 3.25]));
  assert.deepEqual([...h.readF32(p, 3)], [1.5, -2, 3.25]);
  assert.equal(h.f32()[p / 4 + 1], -2, 'the view at byte pointer / 4 holds what was written');
  h.writeI32(p + 16, Int32Array.from([7, -8]));
  assert.deepEqual([...h.i32().subarray(p / 4 + 4, p / 4 + 6)], [7, -8]);
  h.release(p);
  h.release(filler);

  // greedy decoding with every KV segment, table and activation above 2 GiB equals decoding below it
  const e = EmbeddedEngine.create({ n_layer: 1, n_embd: 32, n_head: 2, n_ctx: 64 }, Tokenizer.ascii(), 3, {
    threads: 1,
  });
  try {
    const opts = { n: 2, temperature: 0, max_tokens: 12, seed: 1, ignore_eos: true };
    const low = await e.generate(['abc', 'hello'], opts);
    const heap = e.model.heap;
    const pad = heap.alloc(2 ** 31);
    // fill every free block below, so that whatever decoding allocates lies above 2 GiB
    const plugs: number[] = [];
    for (let q = heap.alloc(64); q < 2 ** 31; q = heap.alloc(64)) plugs.push(q);
    const high = await e.generate(['abc', 'hello'], opts);
    for (const q of plugs) heap.release(q);
    heap.release(pad);
    assert.deepEqual(
      high.map((cs) => cs.map((c) => c.text)),
      low.map((cs) => cs.map((c) => c.text)),
    );
  } finally {
    await e.close();
  }
});
