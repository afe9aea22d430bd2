// `npm run bench:engine [-- --json] [--preset small] [--quick] [--kernels native|wasm] [--cpu-time]
// [--vs-torch [--no-torch-compile] [--rounds N]]`:
// measures, on this machine and in this run, for each kernel path (native where built, and WebAssembly)
// side by side: the FMA peak of the path's own vectors, the GEMM (256^3 and the model's own shapes) on
// one and two threads, against that peak and against the machine's (the native AVX-512/AVX2 FMA loop),
// training throughput (forward + backward + AdamW) and batched sampling with the KV cache, with a
// per-kernel time breakdown; with --vs-torch, PyTorch on the same config and the ratios for each path.
// Every figure is the best of several runs (the machine may be shared; contention only slows runs down).
// --cpu-time runs everything, PyTorch included, on one thread and times it with that thread's CPU time,
// which other work on the machine does not inflate. With --vs-torch, sampling (64 prompts, prefill included)
// is also measured in --rounds alternating rounds, the engine's and PyTorch's back to back, and compared best
// against best: the host's speed drifts over the minutes between the main measurements, and a ratio of two
// figures taken minutes apart carries that drift. The last line with --json is one JSON object.
import { parseArgs } from 'node:util';
import { countParams, modelConfig } from '../src/engine/config.js';
import { EmbeddedEngine } from '../src/engine/embedded.js';
import { Heap } from '../src/engine/memory.js';
import { GPT } from '../src/engine/model.js';
import { AdamW, DEFAULT_ADAMW } from '../src/engine/optimizer.js';
import { nativeStatus, threadCpuMs, type KernelPath } from '../src/engine/native.js';
import { DEMO_PRESET, preset } from '../src/engine/presets.js';
import { Rng } from '../src/engine/rng.js';
import { ThreadPool } from '../src/engine/threads.js';
import { Tokenizer } from '../src/engine/tokenizer.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    preset: { type: 'string', default: DEMO_PRESET },
    quick: { type: 'boolean', default: false },
    'vs-torch': { type: 'boolean', default: false },
    // skips PyTorch's torch.compile figure (minutes of compiling on a small machine)
    'no-torch-compile': { type: 'boolean', default: false },
    'cpu-time': { type: 'boolean', default: false },
    kernels: { type: 'string' },
    rounds: { type: 'string', default: '3' },
  },
});
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 0)
  throw new Error(`--rounds must be a whole number >= 0, not '${values.rounds}'`);
if (values.kernels !== undefined && values.kernels !== 'native' && values.kernels !== 'wasm') {
  throw new Error(`--kernels must be native or wasm, not '${values.kernels}'`);
}
const log = (s: string) => (values.json ? process.stderr : process.stdout).write(s + '\n');
const reps = values.quick ? 3 : 7;
const cpuTime = values['cpu-time']!;
const clock = cpuTime ? threadCpuMs : () => performance.now();
// threads for the engine and for PyTorch
const NT = cpuTime ? 1 : 2;

const native = nativeStatus();
const paths: KernelPath[] = values.kernels
  ? [values.kernels as KernelPath]
  : native.available
    ? ['native', 'wasm']
    : ['wasm'];
if (!native.available) log(`native kernels unavailable (${native.reason}): measuring the WebAssembly kernels only`);

function best(fn: () => void, n = reps): number {
  let b = Infinity;
  fn();
  for (let i = 0; i < n; i++) {
    const t = clock();
    fn();
    b = Math.min(b, clock() - t);
  }
  return b / 1000;
}

const pr = preset(values.preset!);
const tokenizer = Tokenizer.ascii();
const cfg = modelConfig({ ...pr, vocab_size: tokenizer.vocabSize });
const { n_embd: C, n_inner: F, n_layer: L, vocab_size: V } = cfg;
const B = 16,
  T = Math.min(256, cfg.n_ctx);
const Ntok = B * T;
const params = countParams(cfg);
const fwdFlopsPerTok = 2 * L * (4 * C * C + 2 * C * F) + 2 * C * V + 2 * L * T * C;
const trainFlopsPerTok = 3 * fwdFlopsPerTok;

type Row = [string, number, number];

/** The sampling benchmark's prompts: 64 random lower-case texts of 100 characters, the same every run. */
function samplingPrompts(): string[] {
  const r = new Rng(3);
  return Array.from({ length: 64 }, () =>
    Array.from({ length: 100 }, () => String.fromCharCode(97 + r.int(26))).join(''),
  );
}

/** Everything measured on one kernel path. */
function measure(path: KernelPath): Record<string, any> {
  const tag = (s: string) => log(`[${path}] ${s}`);
  const heap = new Heap();
  const pool = new ThreadPool(heap, NT, { kernels: path });
  const info = pool.native?.info;
  const lanes = info?.lanes ?? 4,
    trip = info?.peakFmas ?? 16;
  const pk = heap.allocF32(512);
  heap.writeF32(pk, new Float32Array(40).fill(0.5));
  const peakN = 2_000_000;
  const peak1 = (peakN * trip * lanes * 2) / best(() => pool.k.peak_fma_par(peakN, pk, 0, 1)) / 1e9;
  const peak2 = (2 * peakN * trip * lanes * 2) / best(() => pool.run('peak_fma_par', [peakN, pk], 2, 1, 2)) / 1e9;
  tag(
    `FMA peak (${info ? `${info.isa}, ${lanes} lanes` : 'f32x4 relaxed madd'}): ` +
      `${peak1.toFixed(1)} GFLOP/s on 1 thread, ${peak2.toFixed(1)} on 2`,
  );

  function gemm(M: number, K: number, N: number): { t1: number; t2: number } {
    const rng = new Rng(1);
    const a = heap.allocF32(M * K),
      b = heap.allocF32(K * N),
      c = heap.allocF32(M * N);
    const f = heap.f32();
    for (let i = 0; i < M * K; i++) f[(a >>> 2) + i] = rng.next() - 0.5;
    for (let i = 0; i < K * N; i++) f[(b >>> 2) + i] = rng.next() - 0.5;
    const flops = 2 * M * K * N;
    const t1 = flops / best(() => pool.k.matmul(a, b, c, 0, M, K, N, 0, 0, M, 0, N)) / 1e9;
    const t2 =
      flops /
      best(() =>
        info
          ? pool.run('gemm_rows', [a, K, 1, b, c, 0, 0, 0, M, K, N, 0, 0], M, info.mr, 2 * info.mr)
          : pool.run('matmul_rows', [a, b, c, 0, M, K, N, 0], M, 4, 8),
      ) /
      1e9;
    for (const p of [a, b, c]) heap.release(p);
    return { t1, t2 };
  }

  const g256 = gemm(256, 256, 256);
  tag(
    `GEMM 256x256x256: ${g256.t1.toFixed(1)} GFLOP/s (1 thread), ${g256.t2.toFixed(1)} (${NT} threads) = ` +
      `${((100 * g256.t2) / peak2).toFixed(0)}% of this path's ${NT}-thread peak`,
  );
  const shapes: Array<[string, number, number, number]> = [
    ['qkv', Ntok, C, 3 * C],
    ['proj', Ntok, C, C],
    ['fc', Ntok, C, F],
    ['mlp.proj', Ntok, F, C],
    ['head', Ntok, C, V],
  ];
  const modelGemm: Record<string, { t1: number; t2: number }> = {};
  let flopW = 0,
    timeW1 = 0,
    timeW2 = 0;
  for (const [name, M, K, N] of shapes) {
    const g = gemm(M, K, N);
    modelGemm[name] = g;
    const fl = 2 * M * K * N;
    flopW += fl;
    timeW1 += fl / g.t1;
    timeW2 += fl / g.t2;
    tag(`GEMM ${name} [${M}x${K}]@[${K}x${N}]: ${g.t1.toFixed(1)} / ${g.t2.toFixed(1)} GFLOP/s`);
  }
  const modelGemm1 = flopW / timeW1,
    modelGemm2 = flopW / timeW2;

  // training: forward + backward + AdamW on B sequences of T tokens
  const model = new GPT(cfg, heap, pool);
  model.init(1);
  const opt = new AdamW(model);
  const rng = new Rng(2);
  const tokens = new Int32Array(Ntok),
    targets = new Int32Array(Ntok);
  for (let i = 0; i < Ntok; i++) {
    tokens[i] = 2 + rng.int(V - 2);
    targets[i] = 2 + rng.int(V - 2);
  }
  const batch = { tokens, targets, seqs: Array.from({ length: B }, (_, s) => [s * T, T] as [number, number]) };
  const g = new Float32Array(Ntok).fill(-1 / Ntok);
  const trainStep = () => {
    model.zeroGrad();
    model.forward(batch);
    model.backward(g);
    opt.step(1e-4, DEFAULT_ADAMW);
  };
  const tStep = best(trainStep, values.quick ? 2 : 4);
  const trainTokS = Ntok / tStep;
  const trainBound = (modelGemm2 * 1e9) / trainFlopsPerTok;
  tag(
    `model ${values.preset}: ${L} layers x d ${C}, ${cfg.n_head} heads, ctx ${cfg.n_ctx}, ` +
      `${(params / 1e6).toFixed(2)}M params`,
  );
  tag(
    `training: ${Math.round(trainTokS)} tokens/s (batch ${B}x${T}); FLOP bound at the model-shape GEMM rate ` +
      `${Math.round(trainBound)} tokens/s -> ${((100 * trainTokS) / trainBound).toFixed(0)}%`,
  );

  function profileOf(fn: () => void): Row[] {
    pool.profile = new Map();
    const t = performance.now();
    fn();
    const total = performance.now() - t;
    const rows = [...pool.profile.entries()].map(([k, v]) => [k, v.ms, v.calls] as Row);
    pool.profile = undefined;
    const kernels = rows.reduce((a, r) => a + r[1], 0);
    rows.push(['(outside kernels)', total - kernels, 0]);
    return rows.sort((a, b) => b[1] - a[1]);
  }
  const trainProfile = profileOf(trainStep);
  tag('training step breakdown: ' + trainProfile.map(([k, ms]) => `${k} ${ms.toFixed(1)}ms`).join(', '));
  opt.release();
  pool.close();

  // sampling through the engine (KV cache, batched); the engine has its own heap and threads
  const engine = EmbeddedEngine.create(pr, tokenizer, 1, { kernels: path, threads: NT });
  const prompts64 = samplingPrompts();
  const gen = (prompts: string[], n: number, max: number) =>
    engine.generateSync(prompts, { n, temperature: 1, max_tokens: max, seed: 1, ignore_eos: true });
  const tFull = best(() => gen(prompts64, 1, 50), values.quick ? 1 : 3);
  const tPrefill = best(() => gen(prompts64, 1, 1), values.quick ? 1 : 3);
  const sampleTokS = (64 * 50) / tFull;
  const decodeTokS = (64 * 49) / (tFull - tPrefill);
  tag(
    `sampling 64 x (100-token prompt + 50 new): ${Math.round(sampleTokS)} tokens/s including prefill, ` +
      `${Math.round(decodeTokS)} decode tokens/s`,
  );
  const tShared = best(() => gen(prompts64, 6, 50), values.quick ? 1 : 3);
  const prefixTokS = (384 * 50) / tShared;
  tag(`sampling 64 prompts x 6 candidates sharing the prompt: ${Math.round(prefixTokS)} tokens/s including prefill`);
  const tSingle = best(() => gen([prompts64[0]!], 1, 50), values.quick ? 1 : 3);
  const tSingle1 = best(() => gen([prompts64[0]!], 1, 1), values.quick ? 1 : 3);
  const latency = ((tSingle - tSingle1) / 49) * 1000;
  tag(`single sequence: ${latency.toFixed(2)} ms per decoded token`);
  engine.pool.profile = new Map();
  gen(prompts64, 1, 50);
  const sampleProfile = [...engine.pool.profile.entries()]
    .map(([k, v]) => [k, v.ms, v.calls] as Row)
    .sort((a, b) => b[1] - a[1]);
  engine.pool.profile = undefined;
  tag('sampling breakdown: ' + sampleProfile.map(([k, ms]) => `${k} ${ms.toFixed(1)}ms`).join(', '));
  void engine.close();

  return {
    kernels: info ? `native ${info.isa}` : 'wasm simd128',
    simd_peak_gflops: +peak2.toFixed(1),
    simd_peak_gflops_1t: +peak1.toFixed(1),
    matmul_gflops_1t: +g256.t1.toFixed(1),
    matmul_gflops_2t: +g256.t2.toFixed(1),
    matmul_model_gflops_1t: +modelGemm1.toFixed(1),
    matmul_model_gflops_2t: +modelGemm2.toFixed(1),
    matmul_model_shapes: Object.fromEntries(
      Object.entries(modelGemm).map(([k, v]) => [k, { t1: +v.t1.toFixed(1), t2: +v.t2.toFixed(1) }]),
    ),
    matmul_share_of_peak: +(g256.t2 / peak2).toFixed(3),
    matmul_model_share_of_peak: +(modelGemm2 / peak2).toFixed(3),
    train_tokens_per_s: Math.round(trainTokS),
    train_flop_bound_tokens_per_s: Math.round(trainBound),
    train_share_of_bound: +(trainTokS / trainBound).toFixed(3),
    sample_tokens_per_s: Math.round(sampleTokS),
    decode_tokens_per_s: Math.round(decodeTokS),
    prefix_sample_tokens_per_s: Math.round(prefixTokS),
    single_latency_ms_per_token: +latency.toFixed(3),
    train_breakdown_ms: Object.fromEntries(trainProfile.map(([k, ms]) => [k, +ms.toFixed(2)])),
    sample_breakdown_ms: Object.fromEntries(sampleProfile.map(([k, ms]) => [k, +ms.toFixed(2)])),
  };
}

const results: Record<string, Record<string, any>> = {};
for (const path of paths) results[path] = measure(path);
// the machine's FMA peak: the native FMA loop at the CPU's widest vectors (AVX-512 or AVX2)
const machinePeak = results.native?.simd_peak_gflops as number | undefined;
for (const r of Object.values(results)) {
  if (machinePeak) {
    r.matmul_share_of_machine_peak = +(r.matmul_gflops_2t / machinePeak).toFixed(3);
    r.matmul_model_share_of_machine_peak = +(r.matmul_model_gflops_2t / machinePeak).toFixed(3);
  }
}
if (machinePeak) {
  for (const [path, r] of Object.entries(results)) {
    log(
      `[${path}] GEMM at ${NT} threads: ${r.matmul_gflops_2t} GFLOP/s at 256^3 = ` +
        `${(100 * r.matmul_share_of_machine_peak).toFixed(0)}% of the machine's FMA peak (${machinePeak} GFLOP/s); ` +
        `model shapes ${r.matmul_model_gflops_2t} = ${(100 * r.matmul_model_share_of_machine_peak).toFixed(0)}%`,
    );
  }
}

// PyTorch on the same config, same machine, same run (reference/psrlm_ref/bench.py, as many threads)
let torch: Record<string, any> | undefined;
let alternating: Record<string, Record<string, number>> | undefined;
if (values['vs-torch']) {
  const { pythonEnv } = (await import(new URL('../../scripts/python-env.mjs', import.meta.url).href)) as {
    pythonEnv: () => Promise<{ python: string }>;
  };
  const { python } = await pythonEnv();
  const { spawnSync } = await import('node:child_process');
  const args = [
    '-m',
    'psrlm_ref.bench',
    '--n-layer',
    String(L),
    '--n-embd',
    String(C),
    '--n-head',
    String(cfg.n_head),
    '--n-ctx',
    String(cfg.n_ctx),
    '--vocab',
    String(V),
    '--batch',
    String(B),
    '--seq',
    String(T),
    '--threads',
    String(NT),
    '--repeats',
    values.quick ? '2' : '5',
    '--train-steps',
    values.quick ? '3' : '10',
    '--sample-seqs',
    '64',
    '--prompt-len',
    '100',
    '--new-tokens',
    '50',
    '--candidates',
    '6',
    ...(values['no-torch-compile'] ? ['--no-compile'] : []),
    ...(cpuTime ? ['--clock', 'thread'] : []),
  ];
  const runTorch = (extra: string[]): Record<string, any> => {
    const r = spawnSync(python, [...args, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`the PyTorch benchmark failed (status ${r.status})`);
    const lines = r.stdout.trim().split('\n');
    return JSON.parse(lines[lines.length - 1]!);
  };
  log(`running PyTorch: python ${args.join(' ')}`);
  torch = runTorch([]);
  const t = torch!;
  log(
    `PyTorch eager training ${Math.round(t.train_eager.tok_s)} tok/s ` +
      `(compiled ${t.train_compiled?.tok_s ? Math.round(t.train_compiled.tok_s) : 'n/a'}), ` +
      `sampling ${Math.round(t.sample.tok_s_incl_prefill)} tok/s, ` +
      `shared-prefix ${Math.round(t.sample_shared_prefix.tok_s_incl_prefill)} tok/s, ` +
      `latency ${t.latency_batch1.ms_per_decode_token.toFixed(2)} ms/token`,
  );
  // alternating rounds of sampling: each path's engine, then PyTorch, `rounds` times; best of each
  if (rounds > 0) {
    const top: Record<string, number> = {};
    const engines = paths.map(
      (p) => [p, EmbeddedEngine.create(pr, tokenizer, 1, { kernels: p, threads: NT })] as const,
    );
    const prompts = samplingPrompts();
    for (let k = 0; k < rounds; k++) {
      for (const [p, e] of engines) {
        const gen = () => e.generateSync(prompts, { n: 1, temperature: 1, max_tokens: 50, seed: 1, ignore_eos: true });
        top[p] = Math.max(top[p] ?? 0, (64 * 50) / best(gen, 2));
      }
      const ts = runTorch(['--only', 'sample', '--repeats', '3']).sample.tok_s_incl_prefill as number;
      top.torch = Math.max(top.torch ?? 0, ts);
      log(
        `sampling round ${k + 1}/${rounds}: ` +
          [...paths.map((p) => `${p} ${Math.round(top[p]!)}`), `PyTorch ${Math.round(top.torch)}`].join(', ') +
          ' tokens/s (best so far)',
      );
    }
    await Promise.all(engines.map(([, e]) => e.close()));
    alternating = Object.fromEntries(
      paths.map((p) => [p, { tokens_per_s: Math.round(top[p]!), vs_torch: +(top[p]! / top.torch!).toFixed(3) }]),
    );
    alternating.torch = { tokens_per_s: Math.round(top.torch!) };
    for (const p of paths) {
      log(`[${p}] sampling incl. prefill, best of ${rounds} alternating rounds: ${alternating[p]!.vs_torch}x PyTorch`);
    }
  }
}

function ratios(r: Record<string, any>, t: Record<string, any>): Record<string, number | null> {
  return {
    train: +(r.train_tokens_per_s / t.train_eager.tok_s).toFixed(3),
    train_vs_compiled: t.train_compiled?.tok_s ? +(r.train_tokens_per_s / t.train_compiled.tok_s).toFixed(3) : null,
    sample: +(r.sample_tokens_per_s / t.sample.tok_s_incl_prefill).toFixed(3),
    decode: +(r.decode_tokens_per_s / t.sample.tok_s_excl_prefill).toFixed(3),
    prefix_sample: +(r.prefix_sample_tokens_per_s / t.sample_shared_prefix.tok_s_incl_prefill).toFixed(3),
    latency_torch_over_engine: +(t.latency_batch1.ms_per_decode_token / r.single_latency_ms_per_token).toFixed(3),
  };
}
const vsTorch = torch ? Object.fromEntries(Object.entries(results).map(([p, r]) => [p, ratios(r, torch!)])) : undefined;
if (vsTorch) {
  for (const [p, v] of Object.entries(vsTorch)) {
    log(
      `[${p}] vs PyTorch eager: training ${v.train}x, sampling incl. prefill ${v.sample}x, decode ${v.decode}x, ` +
        `shared prefix ${v.prefix_sample}x, single-sequence latency ${v.latency_torch_over_engine}x faster`,
    );
  }
}

const result = {
  machine: {
    cpus: (await import('node:os')).cpus()[0]?.model,
    node: process.version,
    native: native.available ? native.info.cpu : native.reason,
  },
  clock: cpuTime ? 'thread CPU time, 1 thread' : 'wall, 2 threads',
  machine_fma_peak_gflops: machinePeak ?? null,
  preset: values.preset,
  model: { n_layer: L, n_embd: C, n_head: cfg.n_head, n_ctx: cfg.n_ctx, vocab_size: V },
  model_params: params,
  paths: results,
  ...(torch
    ? {
        torch: {
          version: torch.torch,
          loadavg_at_start: torch.loadavg_at_start,
          train_eager_tokens_per_s: Math.round(torch.train_eager.tok_s),
          train_compiled_tokens_per_s: torch.train_compiled?.tok_s ? Math.round(torch.train_compiled.tok_s) : null,
          sample_tokens_per_s: Math.round(torch.sample.tok_s_incl_prefill),
          decode_tokens_per_s: Math.round(torch.sample.tok_s_excl_prefill),
          prefix_sample_tokens_per_s: Math.round(torch.sample_shared_prefix.tok_s_incl_prefill),
          single_latency_ms_per_token: +torch.latency_batch1.ms_per_decode_token.toFixed(3),
          train_gflops: +torch.train_eager.approx_gflop_s.toFixed(1),
        },
        vs_torch: vsTorch,
        ...(alternating ? { sample_alternating: { rounds, ...alternating } } : {}),
      }
    : {}),
};
if (values.json) console.log(JSON.stringify(result));
