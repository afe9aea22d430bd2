// The `Trainer` interface over TRL (trainer/psrlm_trl, Python): SFT and step-wise DPO of a Hugging Face
// checkpoint, run as a subprocess with a generated config file, so that `psrlm run` trains real models
// (Qwen2.5-Math-7B and up, paper §4.1) on an established trainer with no code change in the pipeline.
//
// - The launcher is the user's and passes through untouched: `[python]` on one machine, or
//   `[accelerate, launch, --config_file, ds_zero3.yaml, ...]` for many GPUs / nodes (trainer/README.md); the
//   bridge then runs as `<launcher...> -m psrlm_trl.train <config.json>`.
// - Data goes as the pipeline's own JSONL (pairs with chosen_final / rejected_final), tokenised on the Python
//   side by rules that append EOS only after a final step (trainer/psrlm_trl/data.py, docs/method.md §5).
// - Token-boundary contract: before training, the first `contract_records` records are tokenised here with
//   the checkpoint's own tokenizer files (src/engine/hftokenizer.ts) and the Python side compares ids,
//   boundaries and masks; any drift stops training with exit status 3 and the message is surfaced here.
//   This side reads real BPE tokenizers with merges (Qwen2.5's) through @huggingface/tokenizers; only when
//   it cannot read one (a component that library lacks) is the check skipped, said loudly, and recorded in
//   the result.
// - The checkpoint is written by Python to OUT.tmp-ID and renamed into place; `save(dir)` renames it again
//   into the caller's directory, so a checkpoint directory is whole or absent.
// - The outcome comes from the bridge's status file (`<kind>.status.json`: {code, kind, message}), not the
//   exit status, which a launcher flattens to 1 whatever failed (trainer/psrlm_trl/status.py).
// - Every rank is tethered to this process (pid, start time, host in the config) and exits when it is gone;
//   the launcher runs in its own process group, stopped when this process exits; a lock file in the work
//   directory keeps a second trainer off the same output (src/train/trl-lock.ts).
// - IFT replay (DPOOptions.replay, off unless given): the pool goes as `dpo.replay.jsonl` of SFT records, with
//   its weight and records per pair in the config; the Python side adds the replay NLL to each step's loss.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJSONAtomic } from '../util/atomic.js';
import { toJsonl } from '../util/resumable-jsonl.js';
import { loadHFTokenizer, type TextTokenizer } from '../engine/hftokenizer.js';
import { lockTrainer, pipelineTether } from './trl-lock.js';
import type {
  DPOOptions,
  PreferencePair,
  SFTExample,
  StepInfo,
  TrainOptions,
  TrainResult,
  Trainer,
} from '../engine/types.js';

export interface TrlOptions {
  /** Command prefix that runs Python modules: [python] or [accelerate, launch, ...]. */
  launcher: string[];
  per_device_batch_size: number;
  dtype: 'float32' | 'bfloat16' | 'float16';
  /** LoRA instead of full parameters; `merge` (default true) saves the merged model. */
  lora: { r: number; alpha: number; dropout: number; target_modules: string | string[]; merge: boolean } | null;
  /** Reference log-probs computed once up front from the current iterate (no frozen copy held). */
  precompute_ref: boolean;
  max_length: number | null;
  gradient_checkpointing: boolean;
  /** Records compared token by token between TypeScript and Python before training (0: none). */
  contract_records: number;
  /** Extra environment for the subprocess. */
  env: Record<string, string>;
  /** AdamW moments, stated (transformers' defaults differ from the embedded engine's). */
  adam_beta1: number;
  adam_beta2: number;
}

export const DEFAULT_TRL: TrlOptions = {
  launcher: ['python3'],
  per_device_batch_size: 8,
  dtype: 'float32',
  lora: null,
  precompute_ref: false,
  max_length: null,
  gradient_checkpointing: false,
  contract_records: 16,
  env: {},
  adam_beta1: 0.9,
  adam_beta2: 0.95,
};

export interface TrlRunInfo {
  contract: { checked: number; skipped?: string };
  log: string;
}

/** trainer/ (the Python package's parent) next to dist/ and src/. */
export function trainerDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'trainer', 'psrlm_trl', 'train.py'))) return path.join(dir, 'trainer');
    dir = path.dirname(dir);
  }
  throw new Error('trainer/psrlm_trl not found above ' + fileURLToPath(import.meta.url));
}

/** The bridge's outcome file (trainer/psrlm_trl/status.py). */
export interface TrlStatus {
  code: number;
  kind: 'ok' | 'error' | 'data' | 'contract' | 'orphaned';
  message: string;
  rank?: number;
}

const KIND_WHAT: Record<string, string> = {
  contract: 'the token-boundary contract is broken',
  data: 'bad training config or data',
  error: 'the trainer failed',
  orphaned: 'the trainer lost its pipeline',
};

/** Reads the status file; undefined when there is none or it is not a whole status. */
export function readTrlStatus(file: string): TrlStatus | undefined {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as TrlStatus;
    return typeof s.code === 'number' && typeof s.kind === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Why a run failed, from its status file first and the launcher's exit status only without one. */
export function trlFailure(status: TrlStatus | undefined, code: number): string | undefined {
  if (status && status.kind !== 'ok') {
    return `${KIND_WHAT[status.kind] ?? status.kind}${status.rank ? ` on rank ${status.rank}` : ''}: ${status.message}`;
  }
  if (!status) return `exit status ${code}, and the trainer wrote no status file (killed, or it could not start)`;
  return code === 0 ? undefined : `exit status ${code} after the trainer reported success`;
}

const live = new Set<number>();
let hooked = false;
function stopLaunchersOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pid of live)
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
  });
}

export class TrlTrainer implements Trainer {
  /** Set after a run: the contract check's outcome and the subprocess log file. */
  last?: TrlRunInfo;
  private trained?: string;

  /** `model`: the checkpoint M_t to start from (and the DPO reference); `work`: scratch directory. */
  constructor(
    readonly model: string,
    readonly work: string,
    readonly opts: TrlOptions,
    private readonly log: (s: string) => void = () => {},
  ) {}

  private tokenizer(): { tok?: TextTokenizer; why?: string } {
    try {
      return { tok: loadHFTokenizer(this.model) };
    } catch (e) {
      return { why: (e as Error).message };
    }
  }

  private contract(
    kind: 'sft' | 'dpo',
    rows: Array<Record<string, unknown>>,
  ): { file: string; info: TrlRunInfo['contract'] } {
    const n = Math.min(this.opts.contract_records, rows.length);
    if (n === 0) return { file: '', info: { checked: 0, skipped: 'contract_records is 0' } };
    const { tok, why } = this.tokenizer();
    if (!tok) {
      this.log(`!!! token-boundary contract NOT checked: this side cannot read ${this.model}'s tokenizer (${why})`);
      return { file: '', info: { checked: 0, skipped: why } };
    }
    const records = rows.slice(0, n).map((r) => {
      if (kind === 'sft') {
        const p = tok.encode(r.prompt as string),
          c = tok.encode(r.completion as string);
        if (r.eos !== false) c.push(tok.eos);
        return { ...r, input_ids: [...p, ...c], completion_mask: [...p.map(() => 0), ...c.map(() => 1)] };
      }
      const final = r.final === true;
      const side = (text: string, f: unknown) => [...tok.encode(text), ...((f ?? final) === true ? [tok.eos] : [])];
      return {
        ...r,
        prompt_ids: tok.encode(r.prompt as string),
        chosen_ids: side(r.chosen as string, r.chosen_final),
        rejected_ids: side(r.rejected as string, r.rejected_final),
      };
    });
    const file = path.join(this.work, `${kind}.contract.json`);
    writeFileSync(file, JSON.stringify({ kind, records }));
    return { file, info: { checked: n } };
  }

  private async run(
    kind: 'sft' | 'dpo',
    rows: Array<Record<string, unknown>>,
    o: TrainOptions,
    extra: Record<string, unknown>,
  ): Promise<TrainResult> {
    mkdirSync(this.work, { recursive: true });
    const data = path.join(this.work, `${kind}.jsonl`);
    writeFileSync(data, toJsonl(rows));
    const { file: contract, info } = this.contract(kind, rows);
    const out = path.join(this.work, 'out');
    const lock = await lockTrainer(this.work, this.log);
    rmSync(out, { recursive: true, force: true });
    const statusFile = path.join(this.work, `${kind}.status.json`);
    rmSync(statusFile, { force: true });
    const cfg = {
      task: kind,
      model: path.resolve(this.model),
      output: out,
      data,
      contract,
      adapter: '',
      status: statusFile,
      tether: pipelineTether(),
      lr: o.lr,
      epochs: o.epochs,
      batch_size: o.batch_size,
      per_device_batch_size: this.opts.per_device_batch_size,
      warmup_frac: o.warmup_frac ?? 0,
      min_lr_frac: o.min_lr_frac ?? 0,
      weight_decay: o.weight_decay ?? 0,
      grad_clip: o.grad_clip ?? 1,
      seed: o.seed,
      lora: this.opts.lora,
      precompute_ref: this.opts.precompute_ref,
      max_length: this.opts.max_length,
      dtype: this.opts.dtype,
      gradient_checkpointing: this.opts.gradient_checkpointing,
      adam_beta1: this.opts.adam_beta1,
      adam_beta2: this.opts.adam_beta2,
      ...extra,
    };
    const cfgFile = path.join(this.work, `${kind}.config.json`);
    writeJSONAtomic(cfgFile, cfg);
    const logFile = path.join(this.work, `${kind}.log`);
    const [cmd, ...pre] = this.opts.launcher;
    if (!cmd)
      throw new Error('trainer.launcher is empty; give e.g. [python3] or [accelerate, launch, --config_file, X.yaml]');
    const args = [...pre, '-m', 'psrlm_trl.train', cfgFile];
    this.log(`TRL ${kind}: ${[cmd, ...args].join(' ')} (log ${logFile})`);
    const history: StepInfo[] = [];
    let done: { steps: number; tokens: number; final_loss: number; wall_s: number } | undefined;
    const logStream = createWriteStream(logFile);
    const code = await new Promise<number>((resolve, reject) => {
      const pyPath = [trainerDir(), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
      // its own process group, so that stopping it reaches the launcher's helpers (the ranks watch this
      // process themselves: torchrun puts each in a session of its own)
      const child = spawn(cmd, args, {
        env: {
          ...process.env,
          PYTHONPATH: pyPath,
          PSRLM_RUN_ID: kind,
          TQDM_DISABLE: '1',
          TOKENIZERS_PARALLELISM: 'false',
          ...this.opts.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      if (child.pid) {
        lock.launched(child.pid);
        live.add(child.pid);
        stopLaunchersOnExit();
      }
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        logStream.write(d);
        buf += d.toString('utf8');
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          let ev: Record<string, unknown> | undefined;
          try {
            ev = JSON.parse(line) as Record<string, unknown>;
          } catch {
            continue;
          }
          if (ev.event === 'step') {
            const s: StepInfo = {
              step: ev.step as number,
              steps: ev.steps as number,
              loss: ev.loss as number,
              lr: ev.lr as number,
              tokens: 0,
              grad_norm: (ev.grad_norm as number) ?? 0,
              accuracy: ev.accuracy as number | undefined,
              margin: ev.margin as number | undefined,
              ...(typeof ev.replay_nll === 'number' ? { replay_nll: ev.replay_nll } : {}),
            };
            history.push(s);
            o.onStep?.(s);
          } else if (ev.event === 'done') done = ev as unknown as typeof done;
        }
      });
      child.stderr.on('data', (d: Buffer) => logStream.write(d));
      child.on('error', (e) =>
        reject(
          new Error(
            `cannot run the trainer '${cmd}': ${e.message}. Set trainer.launcher to a Python with ` +
              `trainer/requirements.txt installed (node scripts/python-env.mjs rl builds one)`,
          ),
        ),
      );
      child.on('close', (c) => {
        if (child.pid) live.delete(child.pid);
        resolve(c ?? 1);
      });
    }).finally(() => lock.release());
    await new Promise<void>((r) => logStream.end(r));
    this.last = { contract: info, log: logFile };
    const failure = trlFailure(readTrlStatus(statusFile), code);
    if (failure || !done) {
      const tail = readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('{'))
        .slice(-8)
        .join('\n  ');
      throw new Error(
        `TRL ${kind} failed (${failure ?? 'it reported success but sent no done event'}); log ${logFile}:\n  ${tail}`,
      );
    }
    if (!existsSync(path.join(out, 'manifest.json')))
      throw new Error(`TRL ${kind} finished but ${out} holds no manifest.json`);
    this.trained = out;
    return { steps: done.steps, tokens: done.tokens, final_loss: done.final_loss, wall_s: done.wall_s, history };
  }

  trainSFT(examples: SFTExample[], o: TrainOptions): Promise<TrainResult> {
    return this.run(
      'sft',
      examples.map((e) => ({ prompt: e.prompt, completion: e.completion, eos: e.eos ?? true })),
      o,
      { beta: 0.1 },
    );
  }

  trainDPO(pairs: PreferencePair[], o: DPOOptions): Promise<TrainResult> {
    const rows = pairs.map((p) => {
      const r: Record<string, unknown> = {
        prompt: p.prompt,
        chosen: p.chosen,
        rejected: p.rejected,
        chosen_final: p.chosen_final ?? p.final ?? false,
        rejected_final: p.rejected_final ?? p.final ?? false,
      };
      if (p.ref_chosen !== undefined && p.ref_rejected !== undefined) {
        r.ref_chosen = p.ref_chosen;
        r.ref_rejected = p.ref_rejected;
      }
      return r;
    });
    const extra: Record<string, unknown> = { beta: o.beta, nll_alpha: o.nll_alpha ?? 0 };
    if (o.replay) {
      // the pool as SFT records (psrlm_trl.data tokenises them as SFT data: EOS where a record says so)
      mkdirSync(this.work, { recursive: true });
      const data = path.join(this.work, 'dpo.replay.jsonl');
      writeFileSync(
        data,
        toJsonl(o.replay.examples.map((e) => ({ prompt: e.prompt, completion: e.completion, eos: e.eos ?? true }))),
      );
      extra.replay = { data, weight: o.replay.weight, per_pair: o.replay.per_pair };
    }
    return this.run('dpo', rows, o, extra);
  }

  /** Moves the trained checkpoint to `dir` (whole or absent), adding `meta` to its manifest. */
  async save(dir: string, meta?: Record<string, unknown>): Promise<void> {
    if (!this.trained || !existsSync(this.trained))
      throw new Error('TRL trainer: nothing trained to save (call trainSFT or trainDPO first)');
    if (meta) {
      const mf = path.join(this.trained, 'manifest.json');
      const m = JSON.parse(readFileSync(mf, 'utf8')) as Record<string, unknown>;
      writeJSONAtomic(mf, { ...m, pipeline: meta, contract: this.last?.contract });
    }
    mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(this.trained, dir);
    this.trained = undefined;
  }
}
