// Start-up checks of a run config (`psrlm run --check <config>`, and the first thing a real `psrlm run`
// does): what would otherwise stop a run on a GPU node minutes or hours in, or, worse, let it run and learn
// nothing, is found before anything starts. Nothing here loads weights or starts a server.
//
//   model      the model directory has its config, tokenizer and weights (every shard an index names)
//   lengths    vLLM's --max-model-len and the trainer's max_length fit the context the model's config.json
//              allows (vLLM refuses to start otherwise; past it RoPE positions were never trained)
//   precision  bf16/fp16 training weights have fp32 master copies: an update of about 5e-7 (the paper's
//              learning rate) is below bf16's resolution for any weight above about 1e-4 in size and is
//              rounded away silently, so a run in pure bf16 never changes the model. DeepSpeed and FSDP
//              keep fp32 masters (the accelerate config the launcher names says which is used); a LoRA
//              adapter is kept in fp32 by PEFT whatever its base's dtype.
//   vllm       the installed vLLM has every flag of engine.command (src/run/vllm-flags.ts)
//   questions  the config's question file reads, with its contamination count, and holds enough questions
//   disk       the iterates fit the free space under the run directory
//
// The result is one object {ok, errors, warnings, checks}; ok is false when there is any error.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadQuestions } from '../data/questions.js';
import { problemsOf, type RunConfig } from './config.js';
import { dtypeBytes, inspectModelDir, maxContext, paramCount } from './model-files.js';
import { compareVersions, flagsTooNew, flagValue, installedVllmVersion, vllmLaunch } from './vllm-flags.js';

export interface Finding {
  check: string;
  message: string;
}

export interface CheckReport {
  ok: boolean;
  errors: Finding[];
  warnings: Finding[];
  checks: Record<string, unknown>;
}

export interface CheckOptions {
  /** The config file's folder: relative paths in the config (the question file) are relative to it. */
  configDir?: string;
  /** The run directory: free space is measured there, and iterates already in it need no more space. */
  out?: string;
  /** The working directory the trainer is launched in (accelerate reads its --config_file from there). */
  cwd?: string;
  /** Free bytes of the file system holding `dir` (default: fs.statfsSync). */
  freeBytes?: (dir: string) => number;
  /** The vLLM version engine.command would run (default: the env PSRLM_VLLM_VERSION, else asking it). */
  vllmVersion?: (command: readonly string[], env: Record<string, string>) => string;
  /** Benchmark folder for the question file's contamination check (default: the repo's data/benchmarks). */
  benchmarks?: string;
}

const GB = 1e9;
const gb = (b: number) => `${(b / GB).toFixed(1)} GB`;

export async function checkRun(cfg: RunConfig, o: CheckOptions = {}): Promise<CheckReport> {
  const errors: Finding[] = [],
    warnings: Finding[] = [];
  const checks: Record<string, unknown> = {};
  const err = (check: string, message: string) => errors.push({ check, message });
  const warn = (check: string, message: string) => warnings.push({ check, message });
  const guard = async (check: string, fn: () => void | Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      err(check, e instanceof Error ? e.message : String(e));
    }
  };
  const served = cfg.engine.kind !== 'embedded';
  let hf: Record<string, unknown> | undefined;
  let weightBytes = 0;

  await guard('model', () => {
    const m = inspectModelDir(cfg.model, served ? 'hf' : 'psrlm');
    hf = m.hf_config;
    weightBytes = m.weight_bytes;
    checks.model = {
      dir: m.dir,
      format: m.format,
      config: m.config,
      tokenizer: m.tokenizer,
      weights: m.weights?.length ?? 0,
      weight_bytes: m.weight_bytes,
    };
    if (m.missing.length) {
      const how = served ? '' : ' (`psrlm pretrain --out DIR` writes one: point model at DIR/m1)';
      err(
        'model',
        `model ${m.dir} lacks ${m.missing.join(', ')}; ` + `point model: at a complete checkpoint directory${how}`,
      );
    }
    if (m.missing_shards.length) {
      err(
        'model',
        `model ${m.dir}: its weight index names ${m.missing_shards.length} shard(s) that are not ` +
          `there (${m.missing_shards.slice(0, 3).join(', ')}); finish the download`,
      );
    }
    if (m.format === 'hf-adapter' && !m.hf_config) {
      warn(
        'lengths',
        `model ${m.dir} is an adapter whose base model is not a local directory: ` + 'context lengths not checked',
      );
    }
    const tok = cfg.engine.tokenizer;
    if (tok && !existsSync(tok)) err('model', `engine.tokenizer ${tok} not found`);
  });

  if (served) await guard('lengths', () => checkLengths(cfg, hf, err, warn, checks));
  const cwd = o.cwd ?? process.cwd();
  if (cfg.trainer.kind === 'trl') await guard('precision', () => checkPrecision(cfg, cwd, err, checks));
  if (vllmLaunch(cfg.engine.command)) await guard('vllm', () => checkVllm(cfg, o, err, warn, checks));
  if (cfg.questions) await guard('questions', () => checkQuestions(cfg, o, err, warn, checks));
  await guard('disk', () => checkDisk(cfg, o, hf, weightBytes, err, warn, checks));

  return { ok: errors.length === 0, errors, warnings, checks };
}

type Report = (check: string, message: string) => void;

type Checks = Record<string, unknown>;

function checkLengths(cfg: RunConfig, hf: Checks | undefined, err: Report, warn: Report, checks: Checks) {
  if (!hf) return;
  const ctx = maxContext(hf);
  const mml = flagValue(cfg.engine.command, '--max-model-len');
  checks.lengths = {
    max_context: ctx?.limit ?? null,
    from: ctx?.key ?? null,
    max_model_len: mml,
    trainer_max_length: cfg.trainer.max_length,
  };
  if (!ctx) {
    warn(
      'lengths',
      "the model's config.json has no max_position_embeddings (nor another length key): " + 'lengths not checked',
    );
    return;
  }
  const where = `the model's config.json (${ctx.key} = ${ctx.limit})`;
  if (mml !== null) {
    const n = Number(mml);
    if (!Number.isInteger(n) || n < 1) {
      err('lengths', `engine.command: --max-model-len '${mml}' is not a positive integer`);
    } else if (n > ctx.limit) {
      // vLLM lets VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 override its refusal; the model is then used past its training
      const key = 'VLLM_ALLOW_LONG_MAX_MODEL_LEN';
      const allowed = /^(1|true)$/i.test(cfg.engine.env[key] ?? process.env[key] ?? '');
      (allowed ? warn : err)(
        'lengths',
        `engine.command: --max-model-len ${n} exceeds ${where}; vLLM refuses to ` +
          `start${allowed ? ` (here overridden by ${key})` : ''}: set --max-model-len to at most ${ctx.limit}`,
      );
    }
  }
  const ml = cfg.trainer.max_length;
  if (ml !== null && ml > ctx.limit) {
    err(
      'lengths',
      `trainer.max_length ${ml} exceeds ${where}: positions past it were never trained; ` +
        `set trainer.max_length to at most ${ctx.limit}`,
    );
  }
}

interface Launcher {
  accelerate: boolean;
  file: string | null;
  switch: string | null;
}

/** The accelerate config file a launcher names, and its --use_deepspeed / --use_fsdp switches. */
function accelerateOf(launcher: readonly string[]): Launcher {
  const base = path.basename(launcher[0] ?? '');
  const module = launcher.includes('-m') ? launcher[launcher.indexOf('-m') + 1] : undefined;
  const accelerate =
    (base === 'accelerate' && launcher[1] === 'launch') ||
    (/^python[\d.]*$/.test(base) && module === 'accelerate.commands.launch');
  const file = flagValue(launcher, '--config_file') ?? flagValue(launcher, '--config-file');
  const switches = ['--use_deepspeed', '--use-deepspeed', '--use_fsdp', '--use-fsdp'];
  const sw = launcher.find((a) => switches.includes(a)) ?? null;
  return { accelerate, file, switch: sw };
}

function checkPrecision(cfg: RunConfig, cwd: string, err: Report, checks: Checks) {
  const t = cfg.trainer;
  const a = accelerateOf(t.launcher);
  const info: Record<string, unknown> = { dtype: t.dtype, launcher: t.launcher.join(' '), lora: t.lora !== null };
  checks.precision = info;
  if (t.dtype === 'float32' || t.lora) return;
  const fp32 =
    'set trainer.dtype: float32 (add mixed_precision: bf16 to the accelerate config for bf16 compute ' +
    'on fp32 master weights)';
  const fix =
    `${fp32}, or launch with accelerate under DeepSpeed or FSDP ` +
    '(trainer.launcher: [accelerate, launch, --config_file, configs/accelerate/zero3-8gpu.yaml])';
  const pure =
    `trainer.dtype ${t.dtype} trains the weights themselves in ${t.dtype}: updates of about ` +
    `${cfg.dpo.lr} are rounded away and the model never changes`;
  if (!a.accelerate) {
    err('precision', `${pure} (trainer.launcher '${t.launcher.join(' ')}' keeps no fp32 master copy); ${fix}`);
    return;
  }
  if (a.switch) {
    info.distributed_type = /deepspeed/.test(a.switch) ? 'DEEPSPEED' : 'FSDP';
    return;
  }
  if (!a.file) {
    err(
      'precision',
      `${pure} unless accelerate runs DeepSpeed or FSDP, and trainer.launcher names no ` +
        `--config_file to say which (accelerate would use its default config); name the accelerate config, or ${fix}`,
    );
    return;
  }
  const file = path.resolve(cwd, a.file);
  info.accelerate_config = file;
  if (!existsSync(file)) {
    err(
      'precision',
      `trainer.launcher's accelerate config ${a.file} not found (accelerate reads it relative ` +
        `to the working directory, ${cwd}); run from the folder it is relative to, or give its absolute path`,
    );
    return;
  }
  let yaml: unknown;
  try {
    yaml = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    err('precision', `${file}: ${(e as Error).message}`);
    return;
  }
  const dt = String((yaml as Record<string, unknown> | null)?.distributed_type ?? 'NO');
  info.distributed_type = dt;
  info.mixed_precision = (yaml as Record<string, unknown> | null)?.mixed_precision ?? null;
  if (dt !== 'DEEPSPEED' && dt !== 'FSDP') {
    err(
      'precision',
      `${pure}: the accelerate config ${a.file} has distributed_type ${dt}, which keeps no ` +
        `fp32 master copy; set distributed_type: DEEPSPEED (ZeRO) or FSDP there, or ${fp32}`,
    );
  }
}

function defaultVllmVersion(command: readonly string[], env: Record<string, string>): string {
  const forced = process.env.PSRLM_VLLM_VERSION;
  return forced ? forced : installedVllmVersion(command, env);
}

function checkVllm(cfg: RunConfig, o: CheckOptions, err: Report, warn: Report, checks: Checks) {
  let version: string;
  try {
    version = (o.vllmVersion ?? defaultVllmVersion)(cfg.engine.command, cfg.engine.env);
    compareVersions(version, '0');
  } catch (e) {
    checks.vllm = { version: null };
    warn('vllm', `the vLLM version was not checked against engine.command's flags: ${(e as Error).message}`);
    return;
  }
  const late = flagsTooNew(cfg.engine.command, version);
  checks.vllm = { version, too_new: late.map((l) => ({ flag: l.flag, since: l.rule.since })) };
  for (const l of late) {
    err(
      'vllm',
      `engine.command uses ${l.flag}, which vLLM has only from ${l.rule.since} on, but vLLM ` +
        `${version} is installed; upgrade vLLM (pip install -U 'vllm>=${l.rule.since}') or drop the flag`,
    );
  }
}

async function checkQuestions(cfg: RunConfig, o: CheckOptions, err: Report, warn: Report, checks: Checks) {
  const q = cfg.questions!;
  const { questions, report } = await loadQuestions(q, { relativeTo: o.configDir, benchmarks: o.benchmarks });
  const need = Array.from({ length: cfg.iterations }, (_, i) => problemsOf(cfg, i + 1)).reduce((a, b) => a + b, 0);
  checks.questions = { ...report, needed: need };
  if (report.contaminated > 0) {
    const by = Object.entries(report.contaminated_by)
      .map(([b, n]) => `${b} ${n}`)
      .join(', ');
    warn('questions', `${report.contaminated} row(s) of ${q.file} are benchmark questions and are left out (${by})`);
  }
  if (questions.length < need) {
    err(
      'questions',
      `the ${cfg.iterations} iterations need ${need} questions but ${q.file} has ` +
        `${questions.length} usable ones; lower problems or problem_scale, or use a larger file`,
    );
  }
}

function freeBytesOf(dir: string): number {
  let d = path.resolve(dir);
  while (!existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  const s = statfsSync(d);
  return s.bavail * s.bsize;
}

function checkDisk(
  cfg: RunConfig,
  o: CheckOptions,
  hf: Checks | undefined,
  weightBytes: number,
  err: Report,
  warn: Report,
  checks: Checks,
) {
  const params = hf ? paramCount(hf) : null;
  // TRL saves each iterate in the training dtype; the embedded engine's iterates are as large as M1's weights
  const dtype = cfg.trainer.kind === 'trl' ? cfg.trainer.dtype : 'float32';
  const iterate =
    cfg.trainer.kind === 'trl' && cfg.trainer.lora && !cfg.trainer.lora.merge
      ? weightBytes
      : params !== null
        ? params * dtypeBytes(dtype)
        : weightBytes;
  const out = o.out ?? '.';
  const todo = Array.from({ length: cfg.iterations }, (_, i) => i + 1).filter(
    (t) => !existsSync(path.join(out, `iter-${t}`, 'model')),
  );
  const needed = iterate * todo.length;
  const free = (o.freeBytes ?? freeBytesOf)(out);
  const dir = path.resolve(out);
  checks.disk = {
    dir,
    params,
    dtype,
    iterate_bytes: iterate,
    iterates: todo.length,
    needed_bytes: needed,
    free_bytes: free,
  };
  if (iterate === 0) {
    warn('disk', 'the size of an iterate is unknown (no config.json shape, no weight files): disk space not checked');
  } else if (needed > free) {
    const shape = params !== null ? `: ${(params / 1e9).toFixed(2)}B parameters in ${dtype}` : '';
    err(
      'disk',
      `the ${todo.length} iterate(s) to write need about ${gb(needed)} (${gb(iterate)} each${shape}) ` +
        `but ${dir} has ${gb(free)} free; free space there or give --out on a larger disk`,
    );
  }
}
