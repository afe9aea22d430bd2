// Serving each iterate as a LoRA adapter in ONE running vLLM (engine.kind lora; docs/serving.md "Serving each
// iterate"), end to end on this CPU with no downloads: a tiny Qwen2 base, M1 = a LoRA adapter SFT-ed on it with
// TRL through `psrlm sft` (trainer.lora merge: false), one vLLM CPU server on the base with --enable-lora, then
// `psrlm run` with engine.kind lora + trainer.kind trl: M1's adapter is loaded under a fresh name, searched,
// step-DPO continues THAT adapter (reference: a frozen copy of it) into M2, an adapter too, loaded under
// another fresh name and evaluated; both unloaded. Then the served adapter is held to the trainer's own model
// (log-probs of PEFT base + adapter), and the same command again finds the run complete.
//
// The base is the tiny model after a short full-parameter SFT, not the random one: LoRA assumes a trained
// base, and on the random tiny Qwen2 it cannot learn (measured: loss 5.53 -> 5.0 at any lr; the tied
// embeddings are initialised with std 0.02 and, after the final RMSNorm, bound the logits to a narrow range
// that no adapter of the linear layers widens), so its judge never parses and the search finds no pairs.
// The Python environment (.venv-rl) is created when missing, never skipped. vLLM starts once (about 30-40 s
// on two cores), while M1's adapter trains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { buildRecords, dataConfig } from '../../src/data/build.js';
import { RemoteEngine } from '../../src/serve/remote.js';
import { loadAdapter, servedName, startServer, type Served } from '../../src/serve/launch.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

async function rlPython(): Promise<string> {
  const mod = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'python-env.mjs')).href)) as {
    pythonEnv: (n: string) => Promise<{ python: string }>;
  };
  return (await mod.pythonEnv('rl')).python;
}

/** A child process run to its end without blocking the event loop (the server's log is piped through it). */
function runAsync(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    c.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const stage: Record<string, number | number[]> = {};
const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    stage[name] = Math.round((performance.now() - t0) / 100) / 10;
  }
};
const readJSON = <T = Record<string, unknown>>(f: string) => JSON.parse(readFileSync(f, 'utf8')) as T;
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

// log-probs of `completion` after `prompt` under PEFT's base + adapter (the trainer's own model) and under the
// bare base, and the largest weight change between two adapters
const PY_CHECK = `
import json, sys, torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer
base, adapter, before, prompt, completion = sys.argv[1:6]
tok = AutoTokenizer.from_pretrained(adapter)
m = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), adapter).eval()
p = tok(prompt, add_special_tokens=False)["input_ids"]; c = tok(completion, add_special_tokens=False)["input_ids"]
ids = torch.tensor([p + c])
def score():
    with torch.no_grad():
        lp = torch.log_softmax(m(input_ids=ids).logits[0].float(), -1)
    return sum(lp[len(p) + i - 1, t].item() for i, t in enumerate(c))
with_adapter = score()
with m.disable_adapter():
    bare = score()
a, b = load_file(before + "/adapter_model.safetensors"), load_file(adapter + "/adapter_model.safetensors")
print(json.dumps({"adapter": with_adapter, "base": bare, "same_keys": sorted(a) == sorted(b),
                  "max_change": max((a[k] - b[k]).abs().max().item() for k in a)}))
`;

test(
  'tiny Qwen2: one vLLM with --enable-lora serves M1 and M2 as adapters under fresh names; TRL continues the ' +
    'adapter; resume',
  { timeout: 900_000 },
  async () => {
    const py = await timed('python env', rlPython);
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-lora-'));
    const m0 = path.join(dir, 'm0'),
      base = path.join(dir, 'base'),
      m1 = path.join(dir, 'm1');
    const mk = spawnSync(
      py,
      ['-m', 'psrlm_trl.tiny', m0, '--layers', '2', '--hidden', '128', '--heads', '2', '--ctx', '1024'],
      { encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(ROOT, 'trainer') } },
    );
    assert.equal(mk.status, 0, mk.stderr);
    const built = buildRecords(
      dataConfig({
        base: { problems: 0, practice: 0 },
        ift: { problems: 160 },
        eft: { trainPairs: 160, testPairs: 0, harderPairs: 0, explain: 'reason' },
      }),
    );
    const iftFile = path.join(dir, 'ift.jsonl'),
      eftFile = path.join(dir, 'eft-train.jsonl');
    writeFileSync(iftFile, built.ift.map((r) => JSON.stringify(r) + '\n').join(''));
    writeFileSync(eftFile, built.eftTrain.map((r) => JSON.stringify(r) + '\n').join(''));
    const sftCommon = [
      '--data',
      iftFile,
      '--data',
      eftFile,
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

    // ---- the base: a short full-parameter SFT of the random tiny model (the header says why)
    const b = await timed('base: full SFT (TRL)', () =>
      runAsync(process.execPath, [
        CLI,
        'sft',
        '--trainer',
        'trl',
        '--launcher',
        py,
        '--model',
        m0,
        '--out',
        base,
        '--epochs',
        '2',
        '--lr',
        '4e-3',
        ...sftCommon,
      ]),
    );
    assert.equal(b.status, 0, `psrlm sft (base) failed:\n${b.stderr.slice(-3000)}`);

    // ---- the run config: the running server's url, TRL with LoRA adapters (merge: false)
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v1`;
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
        engine: { kind: 'lora', url, options: 'concurrency=32' },
        trainer: {
          kind: 'trl',
          launcher: [py],
          per_device_batch_size: 4,
          contract_records: 8,
          env: { OMP_NUM_THREADS: '2' },
          lora: { r: 8, merge: false },
        },
      }),
    );

    // ---- ONE vLLM on the base with runtime LoRA loading, started while M1's adapter trains
    const serverLog = path.join(dir, 'vllm.log');
    const command = [
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
      '--enable-lora',
      '--max-lora-rank',
      '8',
    ];
    const env = { VLLM_CPU_KVCACHE_SPACE: '1', OMP_NUM_THREADS: '1', VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'True' };
    const starting = timed('vLLM start (base, --enable-lora; beside the M1 SFT)', () =>
      startServer(
        { command, env, port, host: '127.0.0.1', startup_timeout_s: 600, options: '' },
        base,
        servedName('base', base),
        serverLog,
      ),
    );
    starting.catch(() => {}); // awaited below; a failed start must not surface as an unhandled rejection meanwhile
    let served: Served | undefined;
    try {
      // M1 = LoRA SFT of the base on IFT + EFT, under the run config's trainer section
      const s = await timed('M1: LoRA SFT (TRL, psrlm sft --config)', () =>
        runAsync(process.execPath, [
          CLI,
          'sft',
          '--config',
          cfgFile,
          '--model',
          base,
          '--out',
          m1,
          '--epochs',
          '1',
          '--lr',
          '1e-2',
          ...sftCommon,
        ]),
      );
      assert.equal(s.status, 0, `psrlm sft (M1 adapter) failed:\n${s.stderr.slice(-3000)}`);
      served = await starting;
      assert.ok(
        existsSync(path.join(m1, 'adapter_model.safetensors')) && !existsSync(path.join(m1, 'model.safetensors')),
        'M1 is an adapter, not a full checkpoint',
      );
      assert.equal(
        readJSON<{ base_model_name_or_path: string }>(path.join(m1, 'adapter_config.json')).base_model_name_or_path,
        base,
      );

      // ---- psrlm run: M1 -> M2 with adapters loaded into the running server
      const out = path.join(dir, 'run');
      const r = await timed('psrlm run (1 iteration, engine lora)', () =>
        runAsync(process.execPath, [CLI, 'run', cfgFile, '--out', out]),
      );
      assert.equal(r.status, 0, `psrlm run failed:\n${r.stderr.slice(-3000)}`);
      const timings = readJSON<Record<string, Record<string, number>>>(path.join(out, 'timings.json'));
      Object.assign(
        stage,
        Object.fromEntries(
          Object.entries(timings).flatMap(([w, st]) => Object.entries(st).map(([k, v]) => [`run ${w}/${k}`, v])),
        ),
      );

      // each iterate loaded once, under its own fresh name, from its own directory, and unloaded after
      const m2 = path.join(out, 'iter-1', 'model');
      const loaded = () =>
        [...readFileSync(serverLog, 'utf8').matchAll(/Loaded new LoRA adapter: name '([^']+)', path '([^']+)'/g)].map(
          (x) => ({ name: x[1]!, path: x[2]! }),
        );
      const runLoads = loaded();
      assert.deepEqual(
        runLoads.map((l) => l.path),
        [m1, m2],
        'the server loaded M1 then M2',
      );
      assert.match(runLoads[0]!.name, /^psrlm-M1-[0-9a-f]{10}$/);
      assert.match(runLoads[1]!.name, /^psrlm-M2-[0-9a-f]{10}$/);
      assert.notEqual(runLoads[0]!.name, runLoads[1]!.name);
      for (const l of runLoads) {
        assert.ok(
          r.stderr.includes(`loaded the adapter ${l.path} into http://127.0.0.1:${port} as '${l.name}'`),
          'the run says what it loaded, under which name',
        );
        assert.ok(
          readFileSync(serverLog, 'utf8').includes(`Removed LoRA adapter: name '${l.name}'`),
          `${l.name} unloaded after its stages`,
        );
      }
      const models = (await (await fetch(`${url}/models`)).json()) as { data: Array<{ id: string }> };
      assert.deepEqual(
        models.data.map((m) => m.id),
        [served.name],
        'nothing left loaded but the base',
      );

      // every artifact; M2 is an adapter (no full weights, no TRL "ref" copy)
      for (const f of [
        'manifest.json',
        'baseline/eval.json',
        'summary.json',
        'report.md',
        'timings.json',
        'calls-M1.jsonl',
        'calls-M2.jsonl',
        'iter-1/health.json',
        'iter-1/samples.jsonl',
        'iter-1/search.json',
        'iter-1/pairs.jsonl',
        'iter-1/pairs.trl.jsonl',
        'iter-1/pairs.stepdpo.jsonl',
        'iter-1/pairs.json',
        'iter-1/dpo.json',
        'iter-1/eval.json',
        'iter-1/model/adapter_model.safetensors',
        'iter-1/model/adapter_config.json',
        'iter-1/model/tokenizer.json',
        'iter-1/model/manifest.json',
        ...['health', 'search', 'pairs', 'dpo', 'eval'].map((st) => `iter-1/done/${st}`),
      ]) {
        assert.ok(existsSync(path.join(out, f)), `missing ${f}`);
      }
      assert.ok(
        !existsSync(path.join(m2, 'model.safetensors')) && !existsSync(path.join(m2, 'ref')),
        'M2 holds the trained adapter alone',
      );
      assert.equal(
        readJSON<{ base_model_name_or_path: string }>(path.join(m2, 'adapter_config.json')).base_model_name_or_path,
        base,
        'M2 applies to the same base',
      );
      const pairs = readFileSync(path.join(out, 'iter-1', 'pairs.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean);
      assert.ok(pairs.length > 0, 'the search made pairs (else M2 would be a copy of M1 and nothing trained)');
      const dpo = readJSON<{
        pairs: number;
        steps: number;
        contract: { checked: number };
        history: Array<{ loss: number; margin: number }>;
      }>(path.join(out, 'iter-1', 'dpo.json'));
      assert.equal(dpo.pairs, pairs.length);
      assert.ok(dpo.steps >= 1);
      assert.equal(dpo.contract.checked, Math.min(8, pairs.length), 'token-boundary contract checked before DPO');
      // the reference is M1's adapter itself: before the first update policy = reference, so the DPO loss is
      // exactly ln 2 and the margin 0 (a reference of the bare base, adapter off, would give neither)
      assert.ok(Math.abs(dpo.history[0]!.loss - Math.LN2) < 1e-5, `first DPO loss ${dpo.history[0]!.loss} = ln 2`);
      assert.ok(Math.abs(dpo.history[0]!.margin) < 1e-5, `first DPO margin ${dpo.history[0]!.margin} = 0`);
      const mm = readJSON<{
        task: string;
        parent: string;
        adapter_parent: string;
        base_model: string;
        reference: string;
        pipeline: { parent: string; stage: string };
      }>(path.join(m2, 'manifest.json'));
      assert.equal(mm.task, 'dpo');
      assert.equal(mm.parent, m1, 'M2 was trained from M1 (the adapter)');
      assert.equal(mm.adapter_parent, m1);
      assert.equal(mm.base_model, base);
      assert.equal(mm.reference, 'the current iterate, frozen copy');
      assert.deepEqual([mm.pipeline.parent, mm.pipeline.stage], ['M1', 'M2']);
      const man = readJSON<{
        config: { engine: { kind: string; url: string }; trainer: { lora: { merge: boolean } } };
      }>(path.join(out, 'manifest.json'));
      assert.deepEqual(
        [man.config.engine.kind, man.config.engine.url, man.config.trainer.lora.merge],
        ['lora', url, false],
      );
      assert.equal(readJSON<{ model: string }>(path.join(out, 'iter-1', 'eval.json')).model, 'M2');

      // ---- generation through an adapter name, held to the trainer's model; the base answers differently
      const check = await loadAdapter(url, m2, servedName('check-M2', m2), '');
      try {
        const eng = await RemoteEngine.open(`${check.spec}&tokenizer=${encodeURIComponent(m2)}`);
        const bare = await RemoteEngine.open(`${served.spec}&tokenizer=${encodeURIComponent(base)}`);
        assert.equal(
          eng.contextTokens,
          1024,
          "an adapter's context is its base's (vLLM lists the adapter with max_model_len null)",
        );
        const prompt = 'Solve step by step.\nProblem: 3+4*2\n',
          completion = 'Step 1: 4*2 = 8\n';
        const g = await eng.generate([prompt], {
          n: 2,
          temperature: 0,
          max_tokens: 16,
          stop: ['\n'],
          include_stop: true,
          seed: 1,
        });
        assert.ok(
          g[0]![0]!.tokens.length > 0 && g[0]![0]!.text === g[0]![1]!.text,
          'greedy generation through the adapter name',
        );
        const [viaAdapter] = await eng.logprob([{ prompt, completion }]);
        const [viaBase] = await bare.logprob([{ prompt, completion }]);
        const hf = spawnSync(py, ['-c', PY_CHECK, base, m2, m1, prompt, completion], {
          encoding: 'utf8',
          env: { ...process.env, OMP_NUM_THREADS: '2' },
        });
        assert.equal(hf.status, 0, hf.stderr.slice(-2000));
        const ref = JSON.parse(hf.stdout.trim().split('\n').at(-1)!) as {
          adapter: number;
          base: number;
          same_keys: boolean;
          max_change: number;
        };
        stage['log-prob: vLLM adapter / PEFT adapter / vLLM base / PEFT base'] = [
          viaAdapter,
          ref.adapter,
          viaBase,
          ref.base,
        ].map((x) => Math.round(x! * 1e4) / 1e4);
        assert.ok(
          Math.abs(viaAdapter! - ref.adapter) < 1e-3 * Math.max(1, Math.abs(ref.adapter)),
          `vLLM serves M2's adapter as PEFT computes it: ${viaAdapter} vs ${ref.adapter}`,
        );
        assert.ok(
          Math.abs(viaBase! - ref.base) < 1e-3 * Math.max(1, Math.abs(ref.base)),
          `the base name is the bare base: ${viaBase} vs ${ref.base}`,
        );
        assert.ok(Math.abs(ref.adapter - ref.base) > 1e-2, 'the adapter changes the model');
        assert.ok(ref.same_keys && ref.max_change > 0, 'DPO changed the continued adapter (same tensors, new values)');
        await eng.close();
        await bare.close();
        // a run killed before it unloaded leaves its name loaded; the resumed run loads the same name again
        const said: string[] = [];
        const again = await loadAdapter(url, m2, check.name, '', {}, (line) => said.push(line));
        console.log(`# ${said.join('\n# ')}`);
        assert.equal(again.name, check.name);
        assert.ok(
          said.some((l) => l.includes(`adapter '${check.name}' is still loaded`)),
          'the server held the name; it is used as it is',
        );
      } finally {
        await check.stop();
      }
      await assert.rejects(
        check.stop(),
        /unload_lora_adapter answered 404/,
        'unloading a name the server no longer holds is an error, said',
      );

      // ---- the same command again: the run is complete, nothing is loaded or redone
      const loadsBefore = loaded().length,
        timingsBefore = sha(path.join(out, 'timings.json')),
        pairsBefore = sha(path.join(out, 'iter-1', 'pairs.jsonl'));
      const again = await timed('psrlm run again (complete)', () =>
        runAsync(process.execPath, [CLI, 'run', cfgFile, '--out', out]),
      );
      assert.equal(again.status, 0, again.stderr.slice(-2000));
      assert.match(again.stderr, /resuming the run/);
      assert.match(again.stderr, /iteration 1: done already/);
      assert.equal(loaded().length, loadsBefore, 'no adapter loaded for a finished run');
      assert.equal(sha(path.join(out, 'timings.json')), timingsBefore);
      assert.equal(sha(path.join(out, 'iter-1', 'pairs.jsonl')), pairsBefore);
    } finally {
      // the server's whole process group, whatever happened (startServer's stop: SIGTERM, then SIGKILL)
      await (served ?? (await starting.catch(() => undefined)))?.stop();
    }
    console.log(`# stage wall times (s): ${JSON.stringify(stage)}`);
    writeFileSync(path.join(dir, 'stages.json'), JSON.stringify(stage, null, 2));
  },
);
