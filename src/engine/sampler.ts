// Picking the next token from a row of log-probabilities: greedy (temperature 0: argmax, lowest id on
// ties) or temperature + nucleus (top-p) sampling with the caller's seeded stream. Sorting is stable
// (probability, then id) so a seed always gives the same token on the same logits.
import type { Rng } from './rng.js';

export function argmax(row: Float32Array, off: number, V: number): number {
  let best = 0, bv = -Infinity;
  for (let j = 0; j < V; j++) {
    const v = row[off + j]!;
    if (v > bv) { bv = v; best = j; }
  }
  return best;
}

/** Samples from softmax(logp / temperature) restricted to the top-p nucleus. */
export function sampleToken(row: Float32Array, off: number, V: number, temperature: number, topP: number, rng: Rng): number {
  if (temperature <= 0) return argmax(row, off, V);
  let mx = -Infinity;
  for (let j = 0; j < V; j++) mx = Math.max(mx, row[off + j]!);
  const p = new Float64Array(V);
  let sum = 0;
  for (let j = 0; j < V; j++) { const e = Math.exp((row[off + j]! - mx) / temperature); p[j] = e; sum += e; }
  const u = rng.next();
  if (topP >= 1) {
    let acc = 0;
    const target = u * sum;
    for (let j = 0; j < V; j++) { acc += p[j]!; if (acc > target) return j; }
    return argmax(row, off, V);
  }
  const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => p[b]! - p[a]! || a - b);
  let kept = 0, mass = 0;
  while (kept < V && mass < topP * sum) mass += p[order[kept++]!]!;
  let acc = 0;
  const target = u * mass;
  for (let i = 0; i < kept; i++) { acc += p[order[i]!]!; if (acc > target) return order[i]!; }
  return order[kept - 1]!;
}
