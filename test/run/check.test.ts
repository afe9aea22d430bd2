// The start-up checks (src/run/check.ts, `psrlm run --check`) on a copy of the 8-GPU Qwen2.5-Math-7B config
// (test/fixtures/qwen2.5-math-7b-8gpu.yaml) whose model directory holds Qwen2.5-Math-7B's public config.json
// and placeholder tokenizer and weights: the config as shipped passes; each defect it once had, and the
// others the checks exist for, is put back one at a time and must be reported under its check's name. The
// vLLM version and the free disk space are injected, so no Python, vLLM or large disk is needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadQuestions } from '../../src/data/questions.js';
import { checkRun, type CheckOptions, type CheckReport } from '../../src/run/check.js';
import { loadConfig, resolveConfig, type RunConfig } from '../../src/run/config.js';
import { maxContext, paramCount } from '../../src/run/model-files.js';
import { compareVersions, flagsTooNew } from '../../src/run/vllm-flags.js';
import { ROOT } from '../reference/env.js';

const FIX = path.join(ROOT, 'test', 'fixtures');
const CONFIG = path.join(FIX, 'qwen2.5-math-7b-8gpu.yaml');
const MODEL = path.join(FIX, 'qwen2.5-math-7b');
const T = mkdtempSync(path.join(tmpdir(), 'psrlm-check-'));
process.on('exit', () => rmSync(T, { recursive: true, force: true }));

const TB = 1e12;
/** Options of a machine that has everything: vLLM 0.8.5, a terabyte free, launched from the repo root. */
const GOOD: CheckOptions = {
  configDir: FIX,
  out: path.join(T, 'run'),
  cwd: ROOT,
  vllmVersion: () => '0.8.5',
  freeBytes: () => TB,
};

/** The fixture config with `edit` applied to its parsed YAML (the model path made absolute first). */
function variant(edit: (raw: Record<string, any>) => void = () => {}): RunConfig {
  const raw = parseYaml(readFileSync(CONFIG, 'utf8')) as Record<string, any>;
  raw.model = MODEL;
  edit(raw);
  return resolveConfig(raw);
}

const checksOf = (r: CheckReport) => r.errors.map((e) => e.check);
function only(r: CheckReport, check: string, message: RegExp): void {
  assert.equal(r.ok, false);
  assert.deepEqual(checksOf(r), [check], JSON.stringify(r.errors));
  assert.match(r.errors[0]!.message, message);
}

test('Qwen2.5-Math-7B shape: 7.6B parameters and 4,096 positions from its config.json', () => {
  const cfg = JSON.parse(readFileSync(path.join(MODEL, 'config.json'), 'utf8')) as Record<string, unknown>;
  // embeddings and untied head 2 x 152064 x 3584, 28 layers of attention (GQA, 4 KV heads, QKV biases) and MLP
  assert.equal(paramCount(cfg), 7_615_616_512);
  assert.deepEqual(maxContext(cfg), { limit: 4096, key: 'max_position_embeddings' });
  assert.deepEqual(
    maxContext({ ...cfg, rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 4096 } }),
    { limit: 16384, key: 'max_position_embeddings x rope_scaling' },
  );
  assert.equal(maxContext({ ...cfg, rope_scaling: { rope_type: 'llama3', factor: 8 } })!.limit, 4096);
  assert.equal(paramCount({ ...cfg, num_experts: 8 }), null);
});

test('the shipped 8-GPU config passes every check', async () => {
  // the fixture is configs/qwen2.5-math-7b-8gpu.yaml but for its model directory
  const shipped = parseYaml(readFileSync(path.join(ROOT, 'configs', 'qwen2.5-math-7b-8gpu.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const copy = parseYaml(readFileSync(CONFIG, 'utf8')) as Record<string, unknown>;
  assert.deepEqual({ ...copy, model: shipped.model }, shipped);
  const cfg = loadConfig(CONFIG);
  const r = await checkRun(cfg, GOOD);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.ok, true);
  assert.deepEqual(Object.keys(r.checks).sort(), ['disk', 'lengths', 'model', 'precision', 'vllm']);
  assert.equal((r.checks.lengths as { max_context: number }).max_context, 4096);
  assert.equal((r.checks.precision as { distributed_type: string }).distributed_type, 'DEEPSPEED');
  // three iterates of 7.6B parameters in bf16
  const disk = r.checks.disk as { needed_bytes: number; iterates: number };
  assert.equal(disk.iterates, 3);
  assert.equal(disk.needed_bytes, 3 * 7_615_616_512 * 2);
});

test('--max-model-len 8192 past max_position_embeddings 4096 is a lengths error', async () => {
  const cfg = variant((c) => {
    c.engine.command[c.engine.command.indexOf('--max-model-len') + 1] = '8192';
  });
  only(
    await checkRun(cfg, GOOD),
    'lengths',
    /--max-model-len 8192 exceeds the model's config\.json \(max_position_embeddings = 4096\).*at most 4096/,
  );
  const eq = variant((c) => {
    const i = c.engine.command.indexOf('--max-model-len');
    c.engine.command.splice(i, 2, '--max-model-len=8192');
  });
  only(await checkRun(eq, GOOD), 'lengths', /--max-model-len 8192/);
  // vLLM's own override turns the refusal into a warning, which the check repeats
  const allowed = variant((c) => {
    c.engine.command[c.engine.command.indexOf('--max-model-len') + 1] = '8192';
    c.engine.env = { VLLM_ALLOW_LONG_MAX_MODEL_LEN: '1' };
  });
  const r = await checkRun(allowed, GOOD);
  assert.equal(r.ok, true);
  assert.deepEqual(
    r.warnings.map((w) => w.check),
    ['lengths'],
  );
});

test("trainer.max_length past the model's positions is a lengths error", async () => {
  only(
    await checkRun(
      variant((c) => {
        c.trainer.max_length = 8192;
      }),
      GOOD,
    ),
    'lengths',
    /trainer\.max_length 8192 exceeds/,
  );
});

test('bf16 weights without fp32 master copies are a precision error saying what to change', async () => {
  const plain = variant((c) => {
    c.trainer.launcher = ['python3'];
  });
  only(
    await checkRun(plain, GOOD),
    'precision',
    /trainer\.dtype bfloat16.*'python3'.*set trainer\.dtype: float32.*DeepSpeed or FSDP/,
  );
  const torchrun = variant((c) => {
    c.trainer.launcher = ['torchrun', '--nproc_per_node', '8'];
  });
  only(await checkRun(torchrun, GOOD), 'precision', /no fp32 master copy/);

  // an accelerate config of plain data parallelism
  const ddp = path.join(T, 'ddp.yaml');
  writeFileSync(ddp, 'distributed_type: MULTI_GPU\nmixed_precision: bf16\nnum_processes: 8\n');
  const multi = variant((c) => {
    c.trainer.launcher = ['accelerate', 'launch', '--config_file', ddp];
  });
  only(
    await checkRun(multi, GOOD),
    'precision',
    /distributed_type MULTI_GPU.*set distributed_type: DEEPSPEED \(ZeRO\) or FSDP/,
  );
  // no config named: accelerate's default config could be anything
  const bare = variant((c) => {
    c.trainer.launcher = ['accelerate', 'launch'];
  });
  only(await checkRun(bare, GOOD), 'precision', /names no --config_file/);
  // the named config must exist where accelerate will look (the working directory)
  only(
    await checkRun(variant(), { ...GOOD, cwd: T }),
    'precision',
    /zero3-8gpu\.yaml not found \(accelerate reads it relative to the working directory/,
  );

  // what is fine: FSDP, --use_deepspeed, fp32 weights, a LoRA adapter (PEFT keeps it in fp32)
  const fsdp = path.join(T, 'fsdp.yaml');
  writeFileSync(fsdp, 'distributed_type: FSDP\nmixed_precision: bf16\n');
  for (const edit of [
    (c: Record<string, any>) => {
      c.trainer.launcher = ['accelerate', 'launch', `--config_file=${fsdp}`];
    },
    (c: Record<string, any>) => {
      c.trainer.launcher = ['accelerate', 'launch', '--use_deepspeed', '--num_processes', '8'];
    },
    (c: Record<string, any>) => {
      c.trainer.launcher = ['python3'];
      c.trainer.dtype = 'float32';
    },
    (c: Record<string, any>) => {
      c.trainer.launcher = ['python3'];
      c.trainer.lora = { r: 16 };
    },
  ]) {
    const r = await checkRun(variant(edit), GOOD);
    assert.deepEqual(r.errors, []);
  }
});

test('a flag newer than the installed vLLM is a vllm error naming the flag and the version it needs', async () => {
  only(
    await checkRun(loadConfig(CONFIG), { ...GOOD, vllmVersion: () => '0.8.2' }),
    'vllm',
    /--data-parallel-size, which vLLM has only from 0\.8\.3 on, but vLLM 0\.8\.2 is installed/,
  );
  const old = await checkRun(loadConfig(CONFIG), { ...GOOD, vllmVersion: () => '0.3.3' });
  assert.deepEqual(checksOf(old), ['vllm', 'vllm', 'vllm']); // `vllm serve` itself, -dp, prefix caching
  assert.deepEqual(
    (old.checks.vllm as { too_new: Array<{ flag: string }> }).too_new.map((t) => t.flag),
    ['vllm serve', '--data-parallel-size', '--enable-prefix-caching'],
  );
  // the version is asked of the engine's own command and environment
  const seen: Array<readonly string[]> = [];
  await checkRun(loadConfig(CONFIG), {
    ...GOOD,
    vllmVersion: (cmd) => {
      seen.push(cmd);
      return '0.8.3';
    },
  });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]![0], 'vllm');
  // an unreadable version is said, but does not stop a check run on a machine without vLLM
  const none = await checkRun(loadConfig(CONFIG), {
    ...GOOD,
    vllmVersion: () => {
      throw new Error('cannot run vllm --version: ENOENT');
    },
  });
  assert.equal(none.ok, true);
  assert.match(none.warnings.map((w) => `${w.check}: ${w.message}`).join('\n'), /^vllm: .*not checked.*ENOENT/);
  // a command that is not vLLM is not asked
  const other = variant((c) => {
    c.engine.command = ['python3', '-m', 'sglang.launch_server', '--model-path', '{checkpoint}'];
  });
  const r = await checkRun(other, {
    ...GOOD,
    vllmVersion: () => {
      throw new Error('asked');
    },
  });
  assert.deepEqual([r.errors, r.warnings, r.checks.vllm], [[], [], undefined]);
});

test('versions order as PEP 440, and flags are found in either spelling', () => {
  assert.equal(compareVersions('0.8.3.dev5+g1234', '0.8.3'), -1);
  assert.equal(compareVersions('0.8.3.post1', '0.8.3'), 1);
  assert.equal(compareVersions('0.10.0', '0.8.3'), 1);
  assert.equal(compareVersions('0.8.3rc1', '0.8.3'), -1);
  assert.throws(() => compareVersions('unknown', '0.8.3'), /'unknown' is not a version/);
  const cmd = ['.venv/bin/python', '-m', 'vllm.entrypoints.openai.api_server', '-dp', '2'];
  assert.deepEqual(
    flagsTooNew(cmd, '0.8.0').map((f) => f.flag),
    ['-dp'],
  );
  assert.deepEqual(
    flagsTooNew(['vllm', 'serve', 'm', '--data-parallel-size=2'], '0.8.2').map((f) => f.flag),
    ['--data-parallel-size'],
  );
  assert.deepEqual(flagsTooNew(cmd, '0.9.1.dev21+gd0bc2f810'), []);
});

test('model files: a missing weight file or shard is a model error, no weight is read', async () => {
  const dir = path.join(T, 'model-partial');
  cpSync(MODEL, dir, { recursive: true });
  unlinkSync(path.join(dir, 'model.safetensors'));
  only(
    await checkRun(
      variant((c) => {
        c.model = dir;
      }),
      GOOD,
    ),
    'model',
    /lacks the weights \(\*\.safetensors or pytorch_model\*\.bin\)/,
  );
  // a sharded checkpoint whose download stopped after the first of two shards
  writeFileSync(path.join(dir, 'model-00001-of-00002.safetensors'), 'x');
  writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({
      weight_map: { 'a.weight': 'model-00001-of-00002.safetensors', 'b.weight': 'model-00002-of-00002.safetensors' },
    }),
  );
  only(
    await checkRun(
      variant((c) => {
        c.model = dir;
      }),
      GOOD,
    ),
    'model',
    /names 1 shard\(s\) that are not there \(model-00002-of-00002/,
  );
  unlinkSync(path.join(dir, 'tokenizer.json'));
  const r = await checkRun(
    variant((c) => {
      c.model = path.join(T, 'nowhere');
    }),
    GOOD,
  );
  assert.equal(r.errors[0]!.check, 'model');
  assert.match(r.errors[0]!.message, /lacks the directory itself/);
});

test('the question file: a missing one is a questions error; a present one reports its contamination', async () => {
  only(
    await checkRun(
      variant((c) => {
        c.questions = { file: 'questions/absent.jsonl', format: 'numina' };
      }),
      GOOD,
    ),
    'questions',
    /questions\.file: .*absent\.jsonl not found/,
  );

  const q = { file: 'questions/gsm8k.jsonl', format: 'gsm8k' as const };
  const pool = await loadQuestions(q, { relativeTo: FIX });
  assert.ok(pool.report.contaminated > 0 && pool.questions.length >= 2);
  const fits = variant((c) => {
    c.questions = q;
    c.iterations = 1;
    c.problems = [pool.questions.length];
  });
  const r = await checkRun(fits, GOOD);
  assert.deepEqual(r.errors, []);
  const got = r.checks.questions as { contaminated: number; usable: number; needed: number };
  assert.deepEqual(
    [got.contaminated, got.usable, got.needed],
    [pool.report.contaminated, pool.questions.length, pool.questions.length],
  );
  assert.match(
    r.warnings.map((w) => `${w.check}: ${w.message}`).join('\n'),
    /^questions: \d+ row\(s\) of questions\/gsm8k\.jsonl are benchmark questions/,
  );
  // the shipped sizes (400 + 800 + 1,200) do not fit a seven-line file
  only(
    await checkRun(
      variant((c) => {
        c.questions = q;
      }),
      GOOD,
    ),
    'questions',
    /need 2400 questions but .* has \d+ usable ones/,
  );
});

test('too little disk for the iterates is a disk error; iterates already written need none', async () => {
  const small = { ...GOOD, freeBytes: () => 40e9 };
  only(
    await checkRun(loadConfig(CONFIG), small),
    'disk',
    /3 iterate\(s\) to write need about 45\.7 GB \(15\.2 GB each: 7\.62B parameters in bfloat16\) but .* has 40\.0 GB/,
  );
  // a resumed run with M2 already saved has two iterates left
  mkdirSync(path.join(GOOD.out!, 'iter-1', 'model'), { recursive: true });
  const r = await checkRun(loadConfig(CONFIG), small);
  assert.deepEqual(r.errors, []);
  assert.equal((r.checks.disk as { iterates: number }).iterates, 2);
  let asked = '';
  await checkRun(loadConfig(CONFIG), {
    ...GOOD,
    freeBytes: (d) => {
      asked = d;
      return TB;
    },
  });
  assert.equal(asked, GOOD.out);
});

test('psrlm run --check prints one JSON line and exits 1 on a defect, before running anything', () => {
  const cfgFile = path.join(T, 'bad.json'),
    out = path.join(T, 'cli-run');
  const raw = parseYaml(readFileSync(CONFIG, 'utf8')) as Record<string, any>;
  raw.model = MODEL;
  raw.engine.command[raw.engine.command.indexOf('--max-model-len') + 1] = '8192';
  writeFileSync(cfgFile, JSON.stringify(raw));
  const run = () =>
    spawnSync(
      process.execPath,
      [path.join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'run', cfgFile, '--check', '--out', out],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, PSRLM_VLLM_VERSION: '0.8.5' },
      },
    );
  const r = run();
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const rep = JSON.parse(lines[0]!) as CheckReport;
  assert.equal(rep.ok, false);
  assert.ok(rep.errors.some((e) => e.check === 'lengths' && /--max-model-len 8192/.test(e.message)));
  // the version came from PSRLM_VLLM_VERSION; nothing was written
  assert.equal((rep.checks.vllm as { version: string }).version, '0.8.5');
  assert.throws(() => readFileSync(path.join(out, 'manifest.json')));
  // a config that does not parse is reported the same way
  writeFileSync(cfgFile, JSON.stringify({ ...raw, iteratons: 3 }));
  const bad = run();
  assert.equal(bad.status, 1);
  const badRep = JSON.parse(bad.stdout) as CheckReport;
  assert.equal(badRep.errors[0]!.check, 'config');
  assert.match(badRep.errors[0]!.message, /iteratons/);
});
