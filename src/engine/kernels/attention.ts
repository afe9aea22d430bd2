// Causal multi-head attention, two forms with one arithmetic.
//
// Training (attn_fwd / attn_bwd): sequences are packed back to back in the row dimension (no padding:
// "varlen"), described by a table of (row offset, length, probability offset) triples; one task is one
// (sequence, head), so tasks never share outputs and the two threads can split them freely. Each task
// first transposes its keys (and, in the backward, values) into scratch, so four scores come out of one
// vector accumulator (score[u..u+3] = sum_d q[d] * K^T[d, u..u+3]) with no horizontal sums; four queries
// share each key load. The forward keeps the softmax probabilities for the backward, which uses
// sum_u p_u dp_u = dy . y (the row's own output) and so needs no extra row.
//
// Inference (attn_infer): keys live transposed in KV-cache segments ([C, cap] per layer, values [cap, C]),
// chained per sequence (shared prompt prefixes, then its own tokens), so prefix sharing costs nothing
// here. Every score, softmax and weighted sum is computed in the same order as in training, so cached
// decoding reproduces a full recompute bit for bit, however the positions are cut into segments.
import { fma, hsum, exp1, exp4 } from './simd';

// K^T block of one (sequence, head): kt[d * len + u] = k_u[d]
function transposeHead(src: usize, ld: usize, kt: usize, len: i32, D: i32): void {
  for (let u = 0; u < len; u++) {
    const s = src + <usize>u * ld;
    for (let d = 0; d < D; d++) store<f32>(kt + ((<usize>d * <usize>len + <usize>u) << 2), load<f32>(s + (<usize>d << 2)));
  }
}

// scores[u] = scale * sum_d q[d] * kt[d * ldk + u] for u in [0, n), returns the running maximum. Sixteen
// keys per pass (four independent accumulators hide the FMA latency that a single chain of D steps
// would expose), then four at a time; lanes past n read finite neighbours and are not stored. Each
// score is one FMA chain over d in order, whichever pass computes it.
@inline function scoreRow(q: usize, kt: usize, ldk: usize, n: i32, D: i32, scale: f32, out: usize, mx: f32): f32 {
  const sv = f32x4.splat(scale);
  let u = 0;
  for (; u + 16 <= n; u += 16) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let kp = kt + (<usize>u << 2);
    for (let d = 0; d < D; d++) {
      const x = v128.load32_splat(q + (<usize>d << 2));
      a0 = fma(x, v128.load(kp), a0); a1 = fma(x, v128.load(kp, 16), a1);
      a2 = fma(x, v128.load(kp, 32), a2); a3 = fma(x, v128.load(kp, 48), a3);
      kp += ldk;
    }
    a0 = f32x4.mul(a0, sv); a1 = f32x4.mul(a1, sv); a2 = f32x4.mul(a2, sv); a3 = f32x4.mul(a3, sv);
    const o = out + (<usize>u << 2);
    v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    const m = f32x4.max(f32x4.max(a0, a1), f32x4.max(a2, a3));
    mx = max(mx, max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3))));
  }
  for (; u < n; u += 4) {
    let acc = f32x4.splat(0);
    let kp = kt + (<usize>u << 2);
    for (let d = 0; d < D; d++) {
      acc = fma(v128.load32_splat(q + (<usize>d << 2)), v128.load(kp), acc);
      kp += ldk;
    }
    acc = f32x4.mul(acc, sv);
    const left = n - u;
    if (left >= 4) {
      v128.store(out + (<usize>u << 2), acc);
      mx = max(mx, max(max(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)), max(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3))));
    } else {
      store<f32>(out + (<usize>u << 2), f32x4.extract_lane(acc, 0)); mx = max(mx, f32x4.extract_lane(acc, 0));
      if (left > 1) { store<f32>(out + (<usize>(u + 1) << 2), f32x4.extract_lane(acc, 1)); mx = max(mx, f32x4.extract_lane(acc, 1)); }
      if (left > 2) { store<f32>(out + (<usize>(u + 2) << 2), f32x4.extract_lane(acc, 2)); mx = max(mx, f32x4.extract_lane(acc, 2)); }
    }
  }
  return mx;
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

// y[d-chunk] = sum_u p[u] * v_u[d-chunk] over u in [0, n) (v rows ldv bytes apart), accumulated onto acc.
@inline function weighted(p: usize, v: usize, ldv: usize, n: i32, acc: v128): v128 {
  for (let u = 0; u < n; u++) {
    acc = fma(v128.load32_splat(p + (<usize>u << 2)), v128.load(v), acc);
    v += ldv;
  }
  return acc;
}

export function attn_fwd(
  qkv: usize, y: usize, att: usize, seqs: usize, kt: usize, C: i32, H: i32, t0: i32, t1: i32,
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
    const K = kt + ((<usize>off * <usize>C + <usize>(h * D) * <usize>len) << 2);
    transposeHead(base + (<usize>C << 2), ld3, K, len, D);
    const ldk = <usize>len << 2;
    const ldr = <usize>len << 2;
    let t = 0;
    // four queries at a time share every key and value load
    for (; t + 4 <= len; t += 4) {
      const row = A + (<usize>t * <usize>len << 2);
      const q0 = base + <usize>t * ld3;
      let m0: f32 = -Infinity, m1: f32 = -Infinity, m2: f32 = -Infinity, m3: f32 = -Infinity;
      const sv = f32x4.splat(scale);
      for (let u = 0; u <= t + 3; u += 4) {
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let kp = K + (<usize>u << 2);
        let qd = q0;
        for (let d = 0; d < D; d++) {
          const kv = v128.load(kp);
          a0 = fma(v128.load32_splat(qd), kv, a0);
          a1 = fma(v128.load32_splat(qd + ld3), kv, a1);
          a2 = fma(v128.load32_splat(qd + 2 * ld3), kv, a2);
          a3 = fma(v128.load32_splat(qd + 3 * ld3), kv, a3);
          kp += ldk;
          qd += 4;
        }
        m0 = storeScores(row, u, t, f32x4.mul(a0, sv), m0);
        m1 = storeScores(row + ldr, u, t + 1, f32x4.mul(a1, sv), m1);
        m2 = storeScores(row + 2 * ldr, u, t + 2, f32x4.mul(a2, sv), m2);
        m3 = storeScores(row + 3 * ldr, u, t + 3, f32x4.mul(a3, sv), m3);
      }
      softmaxRow(row, t + 1, m0);
      softmaxRow(row + ldr, t + 2, m1);
      softmaxRow(row + 2 * ldr, t + 3, m2);
      softmaxRow(row + 3 * ldr, t + 4, m3);
      for (let q = 0; q < 4; q++) for (let u = t + 1 + q; u < len; u++) store<f32>(row + <usize>q * ldr + (<usize>u << 2), 0);
      const y0 = y + (<usize>(off + t)) * ldc + (<usize>(h * D) << 2);
      for (let d = 0; d < D; d += 4) {
        // keys 0..t are common to the four queries; each query then adds its own last keys, in order
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let v = base + (<usize>(2 * C + d) << 2);
        for (let u = 0; u <= t; u++) {
          const vv = v128.load(v);
          const o = <usize>u << 2;
          a0 = fma(v128.load32_splat(row + o), vv, a0);
          a1 = fma(v128.load32_splat(row + ldr + o), vv, a1);
          a2 = fma(v128.load32_splat(row + 2 * ldr + o), vv, a2);
          a3 = fma(v128.load32_splat(row + 3 * ldr + o), vv, a3);
          v += ld3;
        }
        a1 = weighted(row + ldr + (<usize>(t + 1) << 2), v, ld3, 1, a1);
        a2 = weighted(row + 2 * ldr + (<usize>(t + 1) << 2), v, ld3, 2, a2);
        a3 = weighted(row + 3 * ldr + (<usize>(t + 1) << 2), v, ld3, 3, a3);
        const o = <usize>d << 2;
        v128.store(y0 + o, a0);
        v128.store(y0 + ldc + o, a1);
        v128.store(y0 + 2 * ldc + o, a2);
        v128.store(y0 + 3 * ldc + o, a3);
      }
    }
    for (; t < len; t++) {
      const row = A + (<usize>t * <usize>len << 2);
      const mx = scoreRow(base + <usize>t * ld3, K, ldk, t + 1, D, scale, row, -Infinity);
      softmaxRow(row, t + 1, mx);
      for (let u = t + 1; u < len; u++) store<f32>(row + (<usize>u << 2), 0);
      const yr = y + (<usize>(off + t)) * ldc + (<usize>(h * D) << 2);
      for (let d = 0; d < D; d += 4) {
        v128.store(yr + (<usize>d << 2), weighted(row, base + (<usize>(2 * C + d) << 2), ld3, t + 1, f32x4.splat(0)));
      }
    }
  }
}

// Stores the lanes u..u+3 of a score vector that query t may see (u <= t), returns the updated maximum.
@inline function storeScores(row: usize, u: i32, t: i32, sc: v128, mx: f32): f32 {
  const left = t + 1 - u;
  if (left >= 4) {
    v128.store(row + (<usize>u << 2), sc);
    return max(mx, max(max(f32x4.extract_lane(sc, 0), f32x4.extract_lane(sc, 1)), max(f32x4.extract_lane(sc, 2), f32x4.extract_lane(sc, 3))));
  }
  if (left <= 0) return mx;
  store<f32>(row + (<usize>u << 2), f32x4.extract_lane(sc, 0)); mx = max(mx, f32x4.extract_lane(sc, 0));
  if (left > 1) { store<f32>(row + (<usize>(u + 1) << 2), f32x4.extract_lane(sc, 1)); mx = max(mx, f32x4.extract_lane(sc, 1)); }
  if (left > 2) { store<f32>(row + (<usize>(u + 2) << 2), f32x4.extract_lane(sc, 2)); mx = max(mx, f32x4.extract_lane(sc, 2)); }
  return mx;
}

// Writes (not accumulates) the q, k, v gradient columns of each (sequence, head) task into dqkv.
// Overwrites the task's probabilities with score gradients as it goes (the forward's att is spent).
// Queries are taken four at a time (as in the forward) so each key, value and gradient row loaded
// serves four queries; a tail of fewer than four goes one by one.
export function attn_bwd(
  qkv: usize, y: usize, att: usize, dy: usize, dqkv: usize, seqs: usize, vt: usize, C: i32, H: i32, t0: i32, t1: i32,
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
    const VT = vt + ((<usize>off * <usize>C + <usize>(h * D) * <usize>len) << 2);
    transposeHead(base + (<usize>(2 * C) << 2), ld3, VT, len, D);
    const ldr = <usize>len << 2;
    for (let t = 0; t < len; t++) {
      const dr = dbase + <usize>t * ld3;
      for (let d = 0; d < D; d += 4) {
        v128.store(dr + (<usize>(C + d) << 2), f32x4.splat(0));
        v128.store(dr + (<usize>(2 * C + d) << 2), f32x4.splat(0));
      }
    }
    const sv = f32x4.splat(scale);
    const dyb = dy + <usize>off * ldc + (<usize>(h * D) << 2);
    const yb = y + <usize>off * ldc + (<usize>(h * D) << 2);
    let t = 0;
    for (; t + 4 <= len; t += 4) {
      const row = A + (<usize>t * <usize>len << 2);
      const dy0 = dyb + <usize>t * ldc;
      const c0 = centreOf(dy0, yb + <usize>t * ldc, D), c1 = centreOf(dy0 + ldc, yb + <usize>(t + 1) * ldc, D);
      const c2 = centreOf(dy0 + 2 * ldc, yb + <usize>(t + 2) * ldc, D), c3 = centreOf(dy0 + 3 * ldc, yb + <usize>(t + 3) * ldc, D);
      // dv_u += sum_q p_qu dy_q  (key u <= t + q)
      scatter4(row, ldr, dy0, ldc, dbase + (<usize>(2 * C) << 2), ld3, t, D);
      // ds_qu = p_qu (dy_q . v_u - dy_q . y_q) * scale, written over p
      for (let u = 0; u <= t + 3; u += 4) {
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let vp = VT + (<usize>u << 2);
        let g = dy0;
        for (let d = 0; d < D; d++) {
          const vv = v128.load(vp);
          a0 = fma(v128.load32_splat(g), vv, a0);
          a1 = fma(v128.load32_splat(g + ldc), vv, a1);
          a2 = fma(v128.load32_splat(g + 2 * ldc), vv, a2);
          a3 = fma(v128.load32_splat(g + 3 * ldc), vv, a3);
          vp += ldr;
          g += 4;
        }
        const o = <usize>u << 2;
        storeLanes(row + o, f32x4.mul(f32x4.mul(v128.load(row + o), f32x4.sub(a0, c0)), sv), t + 1 - u);
        storeLanes(row + ldr + o, f32x4.mul(f32x4.mul(v128.load(row + ldr + o), f32x4.sub(a1, c1)), sv), t + 2 - u);
        storeLanes(row + 2 * ldr + o, f32x4.mul(f32x4.mul(v128.load(row + 2 * ldr + o), f32x4.sub(a2, c2)), sv), t + 3 - u);
        storeLanes(row + 3 * ldr + o, f32x4.mul(f32x4.mul(v128.load(row + 3 * ldr + o), f32x4.sub(a3, c3)), sv), t + 4 - u);
      }
      // dq_q = sum_u ds_qu k_u
      const dq0 = dbase + <usize>t * ld3;
      for (let d = 0; d < D; d += 4) {
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let k = base + (<usize>(C + d) << 2);
        for (let u = 0; u <= t; u++) {
          const kv = v128.load(k);
          const o = <usize>u << 2;
          a0 = fma(v128.load32_splat(row + o), kv, a0);
          a1 = fma(v128.load32_splat(row + ldr + o), kv, a1);
          a2 = fma(v128.load32_splat(row + 2 * ldr + o), kv, a2);
          a3 = fma(v128.load32_splat(row + 3 * ldr + o), kv, a3);
          k += ld3;
        }
        a1 = weighted(row + ldr + (<usize>(t + 1) << 2), k, ld3, 1, a1);
        a2 = weighted(row + 2 * ldr + (<usize>(t + 1) << 2), k, ld3, 2, a2);
        a3 = weighted(row + 3 * ldr + (<usize>(t + 1) << 2), k, ld3, 3, a3);
        const o = <usize>d << 2;
        v128.store(dq0 + o, a0); v128.store(dq0 + ld3 + o, a1); v128.store(dq0 + 2 * ld3 + o, a2); v128.store(dq0 + 3 * ld3 + o, a3);
      }
      // dk_u += sum_q ds_qu q_q
      scatter4(row, ldr, base + <usize>t * ld3, ld3, dbase + (<usize>C << 2), ld3, t, D);
    }
    for (; t < len; t++) {
      const q = base + <usize>t * ld3;
      const dq = dbase + <usize>t * ld3;
      const row = A + (<usize>t * <usize>len << 2);
      const dyr = dyb + <usize>t * ldc;
      const centre = centreOf(dyr, yb + <usize>t * ldc, D);
      for (let u = 0; u <= t; u++) {
        const pv = v128.load32_splat(row + (<usize>u << 2));
        const dv = dbase + <usize>u * ld3 + (<usize>(2 * C) << 2);
        for (let d = 0; d < D; d += 4) {
          const o = <usize>d << 2;
          v128.store(dv + o, fma(pv, v128.load(dyr + o), v128.load(dv + o)));
        }
      }
      for (let u = 0; u <= t; u += 4) {
        let acc = f32x4.splat(0);
        let vp = VT + (<usize>u << 2);
        for (let d = 0; d < D; d++) {
          acc = fma(v128.load32_splat(dyr + (<usize>d << 2)), v128.load(vp), acc);
          vp += ldr;
        }
        storeLanes(row + (<usize>u << 2), f32x4.mul(f32x4.mul(v128.load(row + (<usize>u << 2)), f32x4.sub(acc, centre)), sv), t + 1 - u);
      }
      for (let d = 0; d < D; d += 4) {
        v128.store(dq + (<usize>d << 2), weighted(row, base + (<usize>(C + d) << 2), ld3, t + 1, f32x4.splat(0)));
      }
      for (let u = 0; u <= t; u++) {
        const dsv = v128.load32_splat(row + (<usize>u << 2));
        const dk = dbase + <usize>u * ld3 + (<usize>C << 2);
        for (let d = 0; d < D; d += 4) {
          const o = <usize>d << 2;
          v128.store(dk + o, fma(dsv, v128.load(q + o), v128.load(dk + o)));
        }
      }
    }
  }
}

// dy . y for one query and head, splatted.
@inline function centreOf(dyr: usize, yr: usize, D: i32): v128 {
  let c = f32x4.splat(0);
  for (let d = 0; d < D; d += 4) c = fma(v128.load(dyr + (<usize>d << 2)), v128.load(yr + (<usize>d << 2)), c);
  return f32x4.splat(hsum(c));
}

// Stores the first `n` lanes of v (all four when n >= 4).
@inline function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(p, v); return; }
  if (n <= 0) return;
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p + 4, f32x4.extract_lane(v, 1));
  if (n > 2) store<f32>(p + 8, f32x4.extract_lane(v, 2));
}

// For queries t..t+3 with weights w (rows of the att block, ldr apart) and vectors x_q (ldx apart):
// out_u += sum_q w_qu x_q over keys u <= t + q. Used for dv (x = dy) and dk (x = q).
function scatter4(w: usize, ldr: usize, x: usize, ldx: usize, out: usize, ldo: usize, t: i32, D: i32): void {
  for (let u = 0; u <= t + 3; u++) {
    const o = <usize>u << 2;
    const w0 = v128.load32_splat(w + o);
    const w1 = u <= t + 1 ? v128.load32_splat(w + ldr + o) : f32x4.splat(0);
    const w2 = u <= t + 2 ? v128.load32_splat(w + 2 * ldr + o) : f32x4.splat(0);
    const w3 = v128.load32_splat(w + 3 * ldr + o);
    const dst = out + <usize>u * ldo;
    const first = u <= t ? 0 : u - t; // queries before this one cannot see key u
    for (let d = 0; d < D; d += 4) {
      const od = <usize>d << 2;
      let acc = v128.load(dst + od);
      if (first == 0) acc = fma(w0, v128.load(x + od), acc);
      if (first <= 1) acc = fma(w1, v128.load(x + ldx + od), acc);
      if (first <= 2) acc = fma(w2, v128.load(x + 2 * ldx + od), acc);
      acc = fma(w3, v128.load(x + 3 * ldx + od), acc);
      v128.store(dst + od, acc);
    }
  }
}

// Copies the keys and values of rows [r0, r1) of qkv into their KV-cache slots. tab holds four i32 per
// row: [segment base (layer 0 K^T), layer stride in bytes, capacity, slot].
export function kv_append(qkv: usize, tab: usize, layer: i32, C: i32, r0: i32, r1: i32): void {
  const ld3 = <usize>(3 * C) << 2;
  for (let i = r0; i < r1; i++) {
    const e = tab + (<usize>i << 4);
    const cap = <usize>load<i32>(e + 8), slot = <usize>load<i32>(e + 12);
    const kt = <usize>load<i32>(e) + <usize>layer * <usize>load<i32>(e + 4);
    const v = kt + ((<usize>C * cap) << 2) + ((slot * <usize>C) << 2);
    const src = qkv + <usize>i * ld3;
    for (let d = 0; d < C; d++) store<f32>(kt + ((<usize>d * cap + slot) << 2), load<f32>(src + (<usize>(C + d) << 2)));
    for (let d = 0; d < C; d += 4) v128.store(v + (<usize>d << 2), v128.load(src + (<usize>(2 * C + d) << 2)));
  }
}

// Inference attention. For query row i (stride qld floats in q), qtab holds two i32: [segment table
// pointer, visible length of the table's last segment]. A segment table is [nseg, (ktptr, vptr, len,
// layerStride, cap) * nseg] for layer 0; layer l's lie l * layerStride bytes further. Task = i * H + h;
// each task gets `sstride` floats of scratch for its scores.
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
      const e = tab + 4 + <usize>(sg * 20);
      const lofs = <usize>layer * <usize>load<i32>(e + 12);
      const cap = <usize>load<i32>(e + 16);
      const len = sg == nseg - 1 ? lastLen : load<i32>(e + 8);
      const K = <usize>load<i32>(e) + lofs + ((<usize>(h * D) * cap) << 2);
      mx = scoreRow(qr, K, cap << 2, len, D, scale, row + (<usize>n << 2), mx);
      n += len;
    }
    softmaxRow(row, n, mx);
    let d = 0;
    // eight output vectors per pass over the positions: one probability broadcast feeds eight FMAs
    for (; d + 32 <= D; d += 32) {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
      let pos = 0;
      for (let sg = 0; sg < nseg; sg++) {
        const e = tab + 4 + <usize>(sg * 20);
        let v = <usize>load<i32>(e + 4) + <usize>layer * <usize>load<i32>(e + 12) + hofs + (<usize>d << 2);
        const len = sg == nseg - 1 ? lastLen : load<i32>(e + 8);
        for (let u = 0; u < len; u++) {
          const p = v128.load32_splat(row + (<usize>(pos + u) << 2));
          a0 = fma(p, v128.load(v), a0); a1 = fma(p, v128.load(v, 16), a1);
          a2 = fma(p, v128.load(v, 32), a2); a3 = fma(p, v128.load(v, 48), a3);
          a4 = fma(p, v128.load(v, 64), a4); a5 = fma(p, v128.load(v, 80), a5);
          a6 = fma(p, v128.load(v, 96), a6); a7 = fma(p, v128.load(v, 112), a7);
          v += ldc;
        }
        pos += len;
      }
      const o = yr + (<usize>d << 2);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
    }
    for (; d < D; d += 4) {
      let acc = f32x4.splat(0);
      let pos = 0;
      for (let sg = 0; sg < nseg; sg++) {
        const e = tab + 4 + <usize>(sg * 20);
        const v = <usize>load<i32>(e + 4) + <usize>layer * <usize>load<i32>(e + 12) + hofs + (<usize>d << 2);
        const len = sg == nseg - 1 ? lastLen : load<i32>(e + 8);
        acc = weighted(row + (<usize>pos << 2), v, ldc, len, acc);
        pos += len;
      }
      v128.store(yr + (<usize>d << 2), acc);
    }
  }
}
