// Element-wise and bookkeeping kernels: GELU (tanh form, docs/engine.md) forward and backward, residual
// adds, embeddings, AdamW, squared norms. All take an element or row range so they can be split.
import { fma, hsum, exp4 } from './simd';

const GELU_K: f32 = 0.7978845608028654; // sqrt(2/pi)
const GELU_C: f32 = 0.044715;

@inline function tanh4(x: v128): v128 {
  // tanh(x) = 1 - 2 / (exp(2x) + 1): saturates cleanly at both ends with the clamped exp
  const e = exp4(f32x4.add(x, x));
  return f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
}

// out = gelu(x) over elements [n0, n1); n0 and n1 multiples of 4 except n1 == n.
export function gelu_fwd(x: usize, out: usize, n0: i32, n1: i32): void {
  const k = f32x4.splat(GELU_K), c = f32x4.splat(GELU_C), half = f32x4.splat(0.5), one = f32x4.splat(1);
  let i = n0;
  for (; i + 4 <= n1; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const inner = f32x4.mul(k, fma(f32x4.mul(c, v), f32x4.mul(v, v), v));
    v128.store(out + o, f32x4.mul(f32x4.mul(half, v), f32x4.add(one, tanh4(inner))));
  }
  for (; i < n1; i++) {
    const o = <usize>i << 2;
    const v = f32x4.splat(load<f32>(x + o));
    const inner = f32x4.mul(k, fma(f32x4.mul(c, v), f32x4.mul(v, v), v));
    store<f32>(out + o, f32x4.extract_lane(f32x4.mul(f32x4.mul(half, v), f32x4.add(one, tanh4(inner))), 0));
  }
}

// dx = dout * gelu'(x), written (not accumulated), elements [n0, n1).
export function gelu_bwd(x: usize, dout: usize, dx: usize, n0: i32, n1: i32): void {
  const k = f32x4.splat(GELU_K), c = f32x4.splat(GELU_C), c3 = f32x4.splat(3 * GELU_C);
  const half = f32x4.splat(0.5), one = f32x4.splat(1);
  let i = n0;
  for (; i + 4 <= n1; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, geluGrad(v128.load(x + o), v128.load(dout + o), k, c, c3, half, one));
  }
  for (; i < n1; i++) {
    const o = <usize>i << 2;
    const r = geluGrad(f32x4.splat(load<f32>(x + o)), f32x4.splat(load<f32>(dout + o)), k, c, c3, half, one);
    store<f32>(dx + o, f32x4.extract_lane(r, 0));
  }
}

@inline function geluGrad(v: v128, g: v128, k: v128, c: v128, c3: v128, half: v128, one: v128): v128 {
  const v2 = f32x4.mul(v, v);
  const t = tanh4(f32x4.mul(k, fma(f32x4.mul(c, v), v2, v)));
  const dinner = f32x4.mul(k, fma(c3, v2, one));
  const sech2 = f32x4.sub(one, f32x4.mul(t, t));
  const d = fma(f32x4.mul(f32x4.mul(half, v), sech2), dinner, f32x4.mul(half, f32x4.add(one, t)));
  return f32x4.mul(g, d);
}

// a += b over elements [n0, n1)
export function add_inplace(a: usize, b: usize, n0: i32, n1: i32): void {
  let i = n0;
  for (; i + 4 <= n1; i += 4) { const o = <usize>i << 2; v128.store(a + o, f32x4.add(v128.load(a + o), v128.load(b + o))); }
  for (; i < n1; i++) { const o = <usize>i << 2; store<f32>(a + o, load<f32>(a + o) + load<f32>(b + o)); }
}

// h[i] = wte[tok[i]] + wpe[pos[i]] for rows [r0, r1)
export function embed_fwd(tok: usize, pos: usize, wte: usize, wpe: usize, h: usize, C: i32, r0: i32, r1: i32): void {
  const ld = <usize>C << 2;
  for (let i = r0; i < r1; i++) {
    const e = wte + <usize>load<i32>(tok + (<usize>i << 2)) * ld;
    const p = wpe + <usize>load<i32>(pos + (<usize>i << 2)) * ld;
    const o = h + <usize>i * ld;
    for (let j = 0; j < C; j += 4) { const q = <usize>j << 2; v128.store(o + q, f32x4.add(v128.load(e + q), v128.load(p + q))); }
  }
}

// dwte[tok[i]] += dh[i]; dwpe[pos[i]] += dh[i] — a scatter, so single-threaded (rows [r0, r1) = all).
export function embed_bwd(tok: usize, pos: usize, dh: usize, dwte: usize, dwpe: usize, C: i32, r0: i32, r1: i32): void {
  const ld = <usize>C << 2;
  for (let i = r0; i < r1; i++) {
    const e = dwte + <usize>load<i32>(tok + (<usize>i << 2)) * ld;
    const p = dwpe + <usize>load<i32>(pos + (<usize>i << 2)) * ld;
    const d = dh + <usize>i * ld;
    for (let j = 0; j < C; j += 4) {
      const q = <usize>j << 2;
      const g = v128.load(d + q);
      v128.store(e + q, f32x4.add(v128.load(e + q), g));
      v128.store(p + q, f32x4.add(v128.load(p + q), g));
    }
  }
}

// AdamW on elements [n0, n1) (PyTorch semantics, docs/engine.md): decoupled decay, bias correction.
// gscale folds gradient clipping into the update; bc1 = 1 - b1^t, bc2 = 1 - b2^t.
export function adamw(
  p: usize, g: usize, m: usize, v: usize, lr: f32, b1: f32, b2: f32, eps: f32, wd: f32,
  bc1: f32, bc2: f32, gscale: f32, n0: i32, n1: i32,
): void {
  const decay: f32 = 1 - lr * wd;
  const stepSize: f32 = lr / bc1;
  const invSqrtBc2: f32 = 1 / Mathf.sqrt(bc2);
  for (let i = n0; i < n1; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o) * gscale;
    const mi = b1 * load<f32>(m + o) + (1 - b1) * gi;
    const vi = b2 * load<f32>(v + o) + (1 - b2) * gi * gi;
    store<f32>(m + o, mi); store<f32>(v + o, vi);
    const denom = Mathf.sqrt(vi) * invSqrtBc2 + eps;
    store<f32>(p + o, load<f32>(p + o) * decay - stepSize * mi / denom);
  }
}

// Sum of squares of x[0, n), accumulated in f64 (the global gradient norm for clipping).
export function sumsq(x: usize, n: i32): f64 {
  let s: f64 = 0;
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    acc = fma(v, v, acc);
    if ((i & 4095) == 4092) { s += <f64>hsum(acc); acc = f32x4.splat(0); }
  }
  s += <f64>hsum(acc);
  for (; i < n; i++) { const v = <f64>load<f32>(x + (<usize>i << 2)); s += v * v; }
  return s;
}

// x[0, n) = 0 over elements [n0, n1)
export function zero(x: usize, n0: i32, n1: i32): void {
  let i = n0;
  for (; i + 4 <= n1; i += 4) v128.store(x + (<usize>i << 2), f32x4.splat(0));
  for (; i < n1; i++) store<f32>(x + (<usize>i << 2), 0);
}

// Machine peak of the FMA instruction the GEMM uses: 8 independent accumulator chains (enough to cover
// FMA latency on current x86 cores) fed from registers, 16 FMAs per loop trip. Benchmarks report GEMM
// rates against it.
export function peak_fma(n: i32, p: usize): f32 {
  const a = v128.load(p), b = v128.load(p, 16);
  let s0 = v128.load(p, 32), s1 = v128.load(p, 48), s2 = v128.load(p, 64), s3 = v128.load(p, 80);
  let s4 = v128.load(p, 96), s5 = v128.load(p, 112), s6 = v128.load(p, 128), s7 = v128.load(p, 144);
  for (let i = 0; i < n; i++) {
    s0 = fma(a, b, s0); s1 = fma(a, b, s1); s2 = fma(a, b, s2); s3 = fma(a, b, s3);
    s4 = fma(a, b, s4); s5 = fma(a, b, s5); s6 = fma(a, b, s6); s7 = fma(a, b, s7);
    s0 = fma(a, b, s0); s1 = fma(a, b, s1); s2 = fma(a, b, s2); s3 = fma(a, b, s3);
    s4 = fma(a, b, s4); s5 = fma(a, b, s5); s6 = fma(a, b, s6); s7 = fma(a, b, s7);
  }
  return hsum(f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(s4, s5), f32x4.add(s6, s7))));
}

// peak_fma over a range, so the pool can run it on both cores at once: each unit of the range is n trips.
export function peak_fma_par(n: i32, p: usize, r0: i32, r1: i32): void {
  let s: f32 = 0;
  for (let r = r0; r < r1; r++) s += peak_fma(n, p);
  store<f32>(p + 256 + (<usize>r0 << 2), s);
}
