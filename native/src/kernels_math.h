// Vector exp, tanh and GELU (the tanh form, docs/engine.md), the same schemes as the WebAssembly kernels
// (src/engine/kernels/simd.ts): Cephes' single-precision exp (range reduction by ln 2 in two steps, a
// degree-6 polynomial, ~1 ulp on the clamped range), tanh(x) = 1 - 2 / (exp(2x) + 1).

static inline V vexp(V x) {
  x = vmin(vmax(x, vset(-87.33654f)), vset(88.0f));
  const V n = vround(vmul(x, vset(1.44269504088896341f)));
  V r = vfma(n, vset(-0.693359375f), x);
  r = vfma(n, vset(2.12194440e-4f), r);
  V p = vset(1.9875691500e-4f);
  p = vfma(p, r, vset(1.3981999507e-3f));
  p = vfma(p, r, vset(8.3334519073e-3f));
  p = vfma(p, r, vset(4.1665795894e-2f));
  p = vfma(p, r, vset(1.6666665459e-1f));
  p = vfma(p, r, vset(5.0000001201e-1f));
  const V r2 = vmul(r, r);
  const V y = vadd(vfma(p, r2, r), vset(1.0f));
  return vmul(y, vpow2i(n));
}

// exp of one value through lane 0 of the vector routine, so scalar tails round like vector bodies.
static inline float exp1(float x) {
  alignas(64) float buf[W];
  vstore(buf, vexp(vset(x)));
  return buf[0];
}

static inline V vtanh(V x) {
  const V e = vexp(vadd(x, x));
  return vsub(vset(1.0f), vdiv(vset(2.0f), vadd(e, vset(1.0f))));
}

static constexpr float GELU_K = 0.7978845608028654f;  // sqrt(2/pi)
static constexpr float GELU_C = 0.044715f;

static inline V gelu(V v) {
  const V inner = vmul(vset(GELU_K), vfma(vmul(vset(GELU_C), v), vmul(v, v), v));
  return vmul(vmul(vset(0.5f), v), vadd(vset(1.0f), vtanh(inner)));
}

// dout * gelu'(x)
static inline V gelu_grad(V v, V g) {
  const V one = vset(1.0f), half = vset(0.5f), k = vset(GELU_K);
  const V v2 = vmul(v, v);
  const V t = vtanh(vmul(k, vfma(vmul(vset(GELU_C), v), v2, v)));
  const V dinner = vmul(k, vfma(vset(3 * GELU_C), v2, one));
  const V sech2 = vsub(one, vmul(t, t));
  const V d = vfma(vmul(vmul(half, v), sech2), dinner, vmul(half, vadd(one, t)));
  return vmul(g, d);
}
