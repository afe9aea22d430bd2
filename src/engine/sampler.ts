// Picking the next token from a row of log-probabilities: greedy (temperature 0: argmax, lowest id on
// ties) or temperature + nucleus (top-p) sampling with the caller's seeded stream. Sorting is stable
// (probability, then id) so a seed always gives the same token on the same logits.
import type { Rng } from './rng.js';

export function argmax(row: Float32Array, off: number, V: number): number {
  let best = 0,
    bv = -Infinity;
  for (let j = 0; j < V; j++) {
    const v = row[off + j]!;
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/** Samples from softmax(logp / temperature) restricted to the top-p nucleus. */
export function sampleToken(
  row: Float32Array,
  off: number,
  V: number,
  temperature: number,
  topP: number,
  rng: Rng,
): number {
  if (temperature <= 0) return argmax(row, off, V);
  let mx = -Infinity;
  for (let j = 0; j < V; j++) mx = Math.max(mx, row[off + j]!);
  const p = new Float64Array(V);
  let sum = 0;
  for (let j = 0; j < V; j++) {
    const e = Math.exp((row[off + j]! - mx) / temperature);
    p[j] = e;
    sum += e;
  }
  const u = rng.next();
  if (topP >= 1) {
    let acc = 0;
    const target = u * sum;
    for (let j = 0; j < V; j++) {
      acc += p[j]!;
      if (acc > target) return j;
    }
    return argmax(row, off, V);
  }
  const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => p[b]! - p[a]! || a - b);
  let kept = 0,
    mass = 0;
  while (kept < V && mass < topP * sum) mass += p[order[kept++]!]!;
  let acc = 0;
  const target = u * mass;
  for (let i = 0; i < kept; i++) {
    acc += p[order[i]!]!;
    if (acc > target) return order[i]!;
  }
  return order[kept - 1]!;
}

/** The k likeliest entries of a row as [id, value] pairs, likeliest first, ties to the lower id. */
export function topK(row: Float32Array, off: number, V: number, k: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (k <= 0) return out;
  // insertion into a short sorted list: k is small (at most 20 in the server) and V is the vocabulary
  for (let j = 0; j < V; j++) {
    const v = row[off + j]!;
    if (out.length === k && !(v > out[k - 1]![1])) continue;
    let at = out.length;
    while (at > 0 && v > out[at - 1]![1]) at--;
    out.splice(at, 0, [j, v]);
    if (out.length > k) out.pop();
  }
  return out;
}

/** 1 + the number of entries strictly likelier than entry `id` (vLLM's rank of a prompt token). */
export function rankOf(row: Float32Array, off: number, V: number, id: number): number {
  const v = row[off + id]!;
  let r = 1;
  for (let j = 0; j < V; j++) if (row[off + j]! > v) r++;
  return r;
}
