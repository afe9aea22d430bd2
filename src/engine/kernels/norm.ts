// LayerNorm forward and backward (docs/engine.md: eps 1e-5, biased variance). The backward is split in
// two kernels so both can be divided between threads without a reduction race: the input gradient runs
// over rows, the weight and bias gradients over columns (each thread owns whole columns).
import { fma, hsum } from './simd';

export function layernorm_fwd(
  x: usize, w: usize, b: usize, out: usize, mean: usize, rstd: usize, C: i32, eps: f32, r0: i32, r1: i32,
): void {
  const ld = <usize>C << 2;
  const invC: f32 = 1.0 / <f32>C;
  for (let i = r0; i < r1; i++) {
    const xr = x + <usize>i * ld, orow = out + <usize>i * ld;
    let s = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= C; j += 4) s = f32x4.add(s, v128.load(xr + (<usize>j << 2)));
    let m = hsum(s);
    for (; j < C; j++) m += load<f32>(xr + (<usize>j << 2));
    m *= invC;
    const mv = f32x4.splat(m);
    let q = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= C; j += 4) { const d = f32x4.sub(v128.load(xr + (<usize>j << 2)), mv); q = fma(d, d, q); }
    let v = hsum(q);
    for (; j < C; j++) { const d = load<f32>(xr + (<usize>j << 2)) - m; v += d * d; }
    v *= invC;
    const rs: f32 = 1.0 / Mathf.sqrt(v + eps);
    store<f32>(mean + (<usize>i << 2), m);
    store<f32>(rstd + (<usize>i << 2), rs);
    const rv = f32x4.splat(rs);
    j = 0;
    for (; j + 4 <= C; j += 4) {
      const o = <usize>j << 2;
      const h = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      v128.store(orow + o, fma(h, v128.load(w + o), v128.load(b + o)));
    }
    for (; j < C; j++) {
      const o = <usize>j << 2;
      store<f32>(orow + o, (load<f32>(xr + o) - m) * rs * load<f32>(w + o) + load<f32>(b + o));
    }
  }
}

// dx[i] += rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dout * w. Rows [r0, r1).
export function layernorm_bwd_dx(
  dout: usize, x: usize, w: usize, mean: usize, rstd: usize, dx: usize, C: i32, r0: i32, r1: i32,
): void {
  const ld = <usize>C << 2;
  const invC: f32 = 1.0 / <f32>C;
  for (let i = r0; i < r1; i++) {
    const xr = x + <usize>i * ld, dr = dout + <usize>i * ld, dxr = dx + <usize>i * ld;
    const m = load<f32>(mean + (<usize>i << 2)), rs = load<f32>(rstd + (<usize>i << 2));
    const mv = f32x4.splat(m), rv = f32x4.splat(rs);
    let sg = f32x4.splat(0), sgx = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= C; j += 4) {
      const o = <usize>j << 2;
      const g = f32x4.mul(v128.load(dr + o), v128.load(w + o));
      const h = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      sg = f32x4.add(sg, g); sgx = fma(g, h, sgx);
    }
    let a = hsum(sg), bq = hsum(sgx);
    for (; j < C; j++) {
      const o = <usize>j << 2;
      const g = load<f32>(dr + o) * load<f32>(w + o);
      a += g; bq += g * (load<f32>(xr + o) - m) * rs;
    }
    a *= invC; bq *= invC;
    const av = f32x4.splat(a), bv = f32x4.splat(bq);
    j = 0;
    for (; j + 4 <= C; j += 4) {
      const o = <usize>j << 2;
      const g = f32x4.mul(v128.load(dr + o), v128.load(w + o));
      const h = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      const t = f32x4.sub(f32x4.sub(g, av), f32x4.mul(h, bv));
      v128.store(dxr + o, fma(t, rv, v128.load(dxr + o)));
    }
    for (; j < C; j++) {
      const o = <usize>j << 2;
      const g = load<f32>(dr + o) * load<f32>(w + o);
      const h = (load<f32>(xr + o) - m) * rs;
      store<f32>(dxr + o, load<f32>(dxr + o) + (g - a - h * bq) * rs);
    }
  }
}

// dw[j] += sum_i dout[i,j] * xhat[i,j];  db[j] += sum_i dout[i,j]. Columns [c0, c1), all M rows,
// streamed row by row with 8 columns in registers.
export function layernorm_bwd_dw(
  dout: usize, x: usize, mean: usize, rstd: usize, dw: usize, db: usize, M: i32, C: i32, c0: i32, c1: i32,
): void {
  const ld = <usize>C << 2;
  let j = c0;
  for (; j + 8 <= c1; j += 8) {
    const o = <usize>j << 2;
    let w0 = f32x4.splat(0), w1 = w0, b0 = w0, b1 = w0;
    let dp = dout + o, xp = x + o;
    for (let i = 0; i < M; i++) {
      const mv = v128.load32_splat(mean + (<usize>i << 2)), rv = v128.load32_splat(rstd + (<usize>i << 2));
      const d0 = v128.load(dp), d1 = v128.load(dp, 16);
      w0 = fma(d0, f32x4.mul(f32x4.sub(v128.load(xp), mv), rv), w0);
      w1 = fma(d1, f32x4.mul(f32x4.sub(v128.load(xp, 16), mv), rv), w1);
      b0 = f32x4.add(b0, d0); b1 = f32x4.add(b1, d1);
      dp += ld; xp += ld;
    }
    v128.store(dw + o, f32x4.add(v128.load(dw + o), w0)); v128.store(dw + o, f32x4.add(v128.load(dw + o, 16), w1), 16);
    v128.store(db + o, f32x4.add(v128.load(db + o), b0)); v128.store(db + o, f32x4.add(v128.load(db + o, 16), b1), 16);
  }
  for (; j < c1; j++) {
    const o = <usize>j << 2;
    let sw: f32 = 0, sb: f32 = 0;
    for (let i = 0; i < M; i++) {
      const d = load<f32>(dout + <usize>i * ld + o);
      sw += d * (load<f32>(x + <usize>i * ld + o) - load<f32>(mean + (<usize>i << 2))) * load<f32>(rstd + (<usize>i << 2));
      sb += d;
    }
    store<f32>(dw + o, load<f32>(dw + o) + sw); store<f32>(db + o, load<f32>(db + o) + sb);
  }
}
