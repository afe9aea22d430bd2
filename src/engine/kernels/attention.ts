// Causal multi-head attention, two forms.
//
// Training (attn_fwd / attn_bwd): sequences are packed back to back in the row dimension (no padding:
// "varlen"), described by a table of (row offset, length, probability offset) triples; one task is one
// (sequence, head), so tasks never share outputs and the two threads can split them freely. The forward
// keeps the softmax probabilities for the backward. The backward uses sum_u p_u dp_u = dy . y (the row's
// own forward output), which removes a scratch row per task.
//
// Inference (attn_infer): the keys and values of a sequence live in a chain of KV-cache segments (shared
// prompt prefixes, then the sequence's own tokens), so prefix sharing costs nothing extra here. Softmax
// is online (running max and sum, output row as accumulator), visiting positions in sequence order, so a
// query's result is the same bits however the positions are cut into segments.
import { fma, hsum, exp1, exp4 } from './simd';

export function attn_fwd(
  qkv: usize, y: usize, att: usize, seqs: usize, C: i32, H: i32, t0: i32, t1: i32,
): void {
  const D = C / H;
  const ld3 = <usize>(3 * C) << 2, ldc = <usize>C << 2;
  const scale: f32 = 1.0 / Mathf.sqrt(<f32>D);
  for (let task = t0; task < t1; task++) {
    const s = task / H, h = task % H;
    const off = load<i32>(seqs + <usize>(s * 3) * 4), len = load<i32>(seqs + <usize>(s * 3 + 1) * 4);
    const aoff = load<i32>(seqs + <usize>(s * 3 + 2) * 4);
    const A = att + (<usize>aoff << 2) + <usize>h * (<usize>len * <usize>len << 2);
    const base = qkv + <usize>off * ld3 + (<usize>(h * D) << 2);
    for (let t = 0; t < len; t++) {
      const q = base + <usize>t * ld3;
      const row = A + (<usize>t * <usize>len << 2);
      let mx: f32 = -Infinity;
      for (let u = 0; u <= t; u++) {
        const k = base + <usize>u * ld3 + (<usize>C << 2);
        let acc = f32x4.splat(0);
        for (let d = 0; d < D; d += 4) acc = fma(v128.load(q + (<usize>d << 2)), v128.load(k + (<usize>d << 2)), acc);
        const sc = hsum(acc) * scale;
        store<f32>(row + (<usize>u << 2), sc);
        mx = max(mx, sc);
      }
      softmaxRow(row, t + 1, mx);
      for (let u = t + 1; u < len; u++) store<f32>(row + (<usize>u << 2), 0);
      const yr = y + (<usize>(off + t)) * ldc + (<usize>(h * D) << 2);
      for (let d = 0; d < D; d += 4) {
        let acc = f32x4.splat(0);
        let v = base + (<usize>(2 * C + d) << 2);
        for (let u = 0; u <= t; u++) {
          acc = fma(v128.load32_splat(row + (<usize>u << 2)), v128.load(v), acc);
          v += ld3;
        }
        v128.store(yr + (<usize>d << 2), acc);
      }
    }
  }
}

// In place: row[0..n) <- softmax(row[0..n)), given its maximum.
function softmaxRow(row: usize, n: i32, mx: f32): void {
  const mv = f32x4.splat(mx);
  let sum = f32x4.splat(0);
  let u = 0;
  for (; u + 4 <= n; u += 4) {
    const e = exp4(f32x4.sub(v128.load(row + (<usize>u << 2)), mv));
    v128.store(row + (<usize>u << 2), e);
    sum = f32x4.add(sum, e);
  }
  let tot = hsum(sum);
  for (; u < n; u++) {
    const e = exp1(load<f32>(row + (<usize>u << 2)) - mx);
    store<f32>(row + (<usize>u << 2), e);
    tot += e;
  }
  const inv = f32x4.splat(1.0 / tot);
  u = 0;
  for (; u + 4 <= n; u += 4) v128.store(row + (<usize>u << 2), f32x4.mul(v128.load(row + (<usize>u << 2)), inv));
  for (; u < n; u++) store<f32>(row + (<usize>u << 2), load<f32>(row + (<usize>u << 2)) * f32x4.extract_lane(inv, 0));
}

// Writes (not accumulates) the q, k, v gradient columns of each (sequence, head) task into dqkv.
export function attn_bwd(
  qkv: usize, y: usize, att: usize, dy: usize, dqkv: usize, seqs: usize, C: i32, H: i32, t0: i32, t1: i32,
): void {
  const D = C / H;
  const ld3 = <usize>(3 * C) << 2, ldc = <usize>C << 2;
  const scale: f32 = 1.0 / Mathf.sqrt(<f32>D);
  for (let task = t0; task < t1; task++) {
    const s = task / H, h = task % H;
    const off = load<i32>(seqs + <usize>(s * 3) * 4), len = load<i32>(seqs + <usize>(s * 3 + 1) * 4);
    const aoff = load<i32>(seqs + <usize>(s * 3 + 2) * 4);
    const A = att + (<usize>aoff << 2) + <usize>h * (<usize>len * <usize>len << 2);
    const base = qkv + <usize>off * ld3 + (<usize>(h * D) << 2);
    const dbase = dqkv + <usize>off * ld3 + (<usize>(h * D) << 2);
    for (let t = 0; t < len; t++) {
      const dr = dbase + <usize>t * ld3;
      for (let d = 0; d < D; d += 4) {
        v128.store(dr + (<usize>d << 2), f32x4.splat(0));
        v128.store(dr + (<usize>(C + d) << 2), f32x4.splat(0));
        v128.store(dr + (<usize>(2 * C + d) << 2), f32x4.splat(0));
      }
    }
    for (let t = 0; t < len; t++) {
      const q = base + <usize>t * ld3;
      const dq = dbase + <usize>t * ld3;
      const row = A + (<usize>t * <usize>len << 2);
      const dyr = dy + <usize>(off + t) * ldc + (<usize>(h * D) << 2);
      const yr = y + <usize>(off + t) * ldc + (<usize>(h * D) << 2);
      let c0 = f32x4.splat(0);
      for (let d = 0; d < D; d += 4) c0 = fma(v128.load(dyr + (<usize>d << 2)), v128.load(yr + (<usize>d << 2)), c0);
      const centre = hsum(c0);
      for (let u = 0; u <= t; u++) {
        const p = load<f32>(row + (<usize>u << 2));
        const k = base + <usize>u * ld3 + (<usize>C << 2);
        const v = base + <usize>u * ld3 + (<usize>(2 * C) << 2);
        const dk = dbase + <usize>u * ld3 + (<usize>C << 2);
        const dv = dbase + <usize>u * ld3 + (<usize>(2 * C) << 2);
        let a = f32x4.splat(0);
        const pv = f32x4.splat(p);
        for (let d = 0; d < D; d += 4) {
          const o = <usize>d << 2;
          const g = v128.load(dyr + o);
          a = fma(g, v128.load(v + o), a);
          v128.store(dv + o, fma(pv, g, v128.load(dv + o)));
        }
        const ds = f32x4.splat(p * (hsum(a) - centre) * scale);
        for (let d = 0; d < D; d += 4) {
          const o = <usize>d << 2;
          v128.store(dq + o, fma(ds, v128.load(k + o), v128.load(dq + o)));
          v128.store(dk + o, fma(ds, v128.load(q + o), v128.load(dk + o)));
        }
      }
    }
  }
}

// Inference attention. For query row i (stride qld floats in q), qtab holds two i32: [segment table
// pointer, visible length of the table's last segment]. A segment table is [nseg, (kptr, vptr, len,
// layerStride) * nseg]: kptr/vptr point at layer 0's keys/values (rows of C floats, all heads), and
// layer l's lie layerStride bytes further per layer. Task = i * H + h; each task gets `sstride` floats
// of scratch for its scores. The arithmetic is attn_fwd's, operation for operation and in the same
// order over positions, so a cached decode gives the training forward's bits.
export function attn_infer(
  q: usize, qld: i32, y: usize, qtab: usize, layer: i32, C: i32, H: i32, scratch: usize, sstride: i32, t0: i32, t1: i32,
): void {
  const D = C / H;
  const ldc = <usize>C << 2;
  const scale: f32 = 1.0 / Mathf.sqrt(<f32>D);
  for (let task = t0; task < t1; task++) {
    const i = task / H, h = task % H;
    const hofs = <usize>(h * D) << 2;
    const qr = q + <usize>i * (<usize>qld << 2) + hofs;
    const yr = y + <usize>i * ldc + hofs;
    const tab = <usize>load<i32>(qtab + (<usize>i << 3));
    const lastLen = load<i32>(qtab + (<usize>i << 3) + 4);
    const nseg = load<i32>(tab);
    const row = scratch + <usize>task * (<usize>sstride << 2);
    let mx: f32 = -Infinity;
    let n = 0;
    for (let sg = 0; sg < nseg; sg++) {
      const e = tab + 4 + <usize>(sg * 16);
      const kp = <usize>load<i32>(e) + <usize>layer * <usize>load<i32>(e + 12) + hofs;
      const len = sg == nseg - 1 ? lastLen : load<i32>(e + 8);
      for (let u = 0; u < len; u++) {
        const k = kp + <usize>u * ldc;
        let acc = f32x4.splat(0);
        for (let d = 0; d < D; d += 4) acc = fma(v128.load(qr + (<usize>d << 2)), v128.load(k + (<usize>d << 2)), acc);
        const sc = hsum(acc) * scale;
        store<f32>(row + (<usize>(n + u) << 2), sc);
        mx = max(mx, sc);
      }
      n += len;
    }
    softmaxRow(row, n, mx);
    for (let d = 0; d < D; d += 4) {
      let acc = f32x4.splat(0);
      let pos = 0;
      for (let sg = 0; sg < nseg; sg++) {
        const e = tab + 4 + <usize>(sg * 16);
        let v = <usize>load<i32>(e + 4) + <usize>layer * <usize>load<i32>(e + 12) + hofs + (<usize>d << 2);
        const len = sg == nseg - 1 ? lastLen : load<i32>(e + 8);
        for (let u = 0; u < len; u++) {
          acc = fma(v128.load32_splat(row + (<usize>(pos + u) << 2)), v128.load(v), acc);
          v += ldc;
        }
        pos += len;
      }
      v128.store(yr + (<usize>d << 2), acc);
    }
  }
}
