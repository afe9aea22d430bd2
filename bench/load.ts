// The closed-loop load generator shared by bench/serve.ts and bench/vllm.ts: `c` clients each send one
// /v1/completions request after another for `seconds` (request i gets the body `body(i)`), so both
// benchmarks measure servers the same way; requests/s, completion tokens/s and latency p50/p95.
export interface Level {
  concurrency: number;
  requests: number;
  requests_per_s: number;
  tokens_per_s: number;
  p50_ms: number;
  p95_ms: number;
}

let counter = 0;
export async function closedLoop(url: string, body: (i: number) => object, c: number, seconds: number): Promise<Level> {
  const lat: number[] = [];
  let tokens = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const i = counter++;
      const s = performance.now();
      const r = await fetch(`${url}/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body(i)),
      });
      const j = (await r.json()) as { usage: { completion_tokens: number } };
      if (!r.ok) throw new Error(`HTTP ${r.status}: ${JSON.stringify(j)}`);
      lat.push(performance.now() - s);
      tokens += j.usage.completion_tokens;
    }
  };
  await Promise.all(Array.from({ length: c }, worker));
  const wall = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! * 10) / 10;
  return {
    concurrency: c,
    requests: lat.length,
    requests_per_s: Math.round((lat.length / wall) * 10) / 10,
    tokens_per_s: Math.round(tokens / wall),
    p50_ms: q(0.5),
    p95_ms: q(0.95),
  };
}
