// Where a run's models live: the embedded engine in process (default), or real models — an inference
// server per iteration (vLLM, SGLang, …; or a LoRA adapter loaded into a running one) for generation and
// judging, and TRL for step-wise DPO. The loop (src/run/loop.ts) asks for "an engine for checkpoint X" and
// "train X into Y" and cannot tell which it got, so one config selects either with no code change.
//
// Serving is cached per checkpoint: the baseline evaluation of M1 and iteration 1's search share one server
// start, as do M2's evaluation and iteration 2's search. Before training the server is stopped (on GPUs the
// trainer needs the memory).
import { cpSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeJSONAtomic } from '../util/atomic.js';
import { EmbeddedEngine } from '../engine/embedded.js';
import { openEngine } from '../serve/registry.js';
import type { Engine } from '../engine/types.js';
import { loadAdapter, servedName, startServer, type Served } from '../serve/launch.js';
import { stepDPO, type ReplayPool, type StepDPOConfig, type StepDPOReport } from '../train/stepdpo.js';
import { TrlTrainer } from '../train/trl.js';
import type { PairRecord } from '../search/pairs.js';
import type { StepInfo } from '../engine/types.js';
import type { RunConfig } from './config.js';

export interface Backend {
  /** Runs `fn` with an engine serving `checkpoint` (label: M1, M2, … for names and logs). */
  withEngine<T>(checkpoint: string, label: string, fn: (e: Engine) => Promise<T>): Promise<T>;
  /** Step-wise DPO of `modelIn` on the pairs, saved to `modelOut` with `meta` in its manifest (`replay`: the
   *  pool of `c.replay`, when set). */
  dpo(
    modelIn: string,
    modelOut: string,
    pairs: PairRecord[],
    c: StepDPOConfig,
    seed: number,
    onStep: (s: StepInfo) => void,
    meta: Record<string, unknown>,
    replay?: ReplayPool,
  ): Promise<StepDPOReport & { contract?: unknown }>;
  close(): Promise<void>;
}

export function openBackend(cfg: RunConfig, out: string, log: (s: string) => void): Backend {
  return cfg.engine.kind === 'embedded' ? new EmbeddedBackend(cfg) : new ServedBackend(cfg, out, log);
}

class EmbeddedBackend implements Backend {
  private open?: { dir: string; e: EmbeddedEngine };
  constructor(private readonly cfg: RunConfig) {}

  private load(dir: string): EmbeddedEngine {
    return EmbeddedEngine.load(dir, { threads: this.cfg.threads });
  }

  async withEngine<T>(checkpoint: string, _label: string, fn: (e: Engine) => Promise<T>): Promise<T> {
    // the engine stays open for dpo() on the same checkpoint (search and training share the loaded weights)
    if (this.open?.dir !== checkpoint) {
      await this.close();
      this.open = { dir: checkpoint, e: this.load(checkpoint) };
    }
    return fn(this.open.e);
  }

  async dpo(
    modelIn: string,
    modelOut: string,
    pairs: PairRecord[],
    c: StepDPOConfig,
    seed: number,
    onStep: (s: StepInfo) => void,
    meta: Record<string, unknown>,
    replay?: ReplayPool,
  ) {
    if (this.open?.dir !== modelIn) {
      await this.close();
      this.open = { dir: modelIn, e: this.load(modelIn) };
    }
    const e = this.open.e;
    try {
      const rep = await stepDPO(e, pairs, c, seed, onStep, replay);
      await e.save(modelOut, { ...meta, dpo: { pairs: rep.pairs, steps: rep.steps, final_loss: rep.final_loss } });
      return rep;
    } finally {
      await this.close(); // its weights are M_{t+1} now, not modelIn's
    }
  }

  async close(): Promise<void> {
    const o = this.open;
    this.open = undefined;
    if (o) await o.e.close();
  }
}

class ServedBackend implements Backend {
  private served?: { dir: string; s: Served; e: Engine };
  constructor(
    private readonly cfg: RunConfig,
    private readonly out: string,
    private readonly log: (s: string) => void,
  ) {
    if (cfg.trainer.kind !== 'trl')
      throw new Error(
        'engine.kind server/lora needs trainer.kind: trl (the embedded trainer cannot train a served model)',
      );
  }

  async withEngine<T>(checkpoint: string, label: string, fn: (e: Engine) => Promise<T>): Promise<T> {
    if (this.served?.dir !== checkpoint) {
      await this.close();
      const ec = this.cfg.engine;
      const name = servedName(`psrlm-${label}`, checkpoint);
      const s =
        ec.kind === 'lora'
          ? await loadAdapter(ec.url!, checkpoint, name, ec.options, {}, this.log)
          : await startServer(
              {
                command: ec.command,
                env: ec.env,
                port: ec.port,
                host: ec.host,
                startup_timeout_s: ec.startup_timeout,
                options: ec.options,
              },
              checkpoint,
              name,
              path.join(this.out, `server-${label}.log`),
              this.log,
            );
      const tok = encodeURIComponent(path.resolve(ec.tokenizer ?? checkpoint));
      const cache = encodeURIComponent(path.join(this.out, `calls-${label}.jsonl`));
      try {
        const e = await openEngine(`${s.spec}&tokenizer=${tok}&cache=${cache}`);
        this.served = { dir: checkpoint, s, e };
      } catch (err) {
        await s.stop();
        throw err;
      }
    }
    return fn(this.served.e);
  }

  async dpo(
    modelIn: string,
    modelOut: string,
    pairs: PairRecord[],
    c: StepDPOConfig,
    seed: number,
    onStep: (s: StepInfo) => void,
    meta: Record<string, unknown>,
    replay?: ReplayPool,
  ) {
    await this.close(); // free the accelerator for training
    if (pairs.length === 0) {
      // as the embedded backend does: no pairs means no update, so M_{t+1} is M_t (the run goes on,
      // labelled, rather than dying between iterations); the copy's manifest says so
      this.log(
        `WARNING: no preference pairs for ${path.basename(modelIn)}: the search found none (see search.json); ` +
          `M_{t+1} is a copy of M_t`,
      );
      const tmp = `${modelOut}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      cpSync(modelIn, tmp, { recursive: true });
      const mf = path.join(tmp, 'manifest.json');
      const m = existsSync(mf) ? (JSON.parse(readFileSync(mf, 'utf8')) as Record<string, unknown>) : {};
      writeJSONAtomic(mf, {
        ...m,
        task: 'copy',
        parent: path.resolve(modelIn),
        reference: 'none: no pairs, no training',
        pipeline: { ...meta, dpo: { pairs: 0, steps: 0, final_loss: 0 } },
      });
      rmSync(modelOut, { recursive: true, force: true });
      renameSync(tmp, modelOut);
      return { pairs: 0, steps: 0, tokens: 0, final_loss: 0, final_accuracy: null, history: [] };
    }
    const { kind: _kind, ...trl } = this.cfg.trainer; // the trainer section is TRL's options plus its kind
    const trainer = new TrlTrainer(modelIn, path.join(path.dirname(modelOut), 'trl'), trl, this.log);
    const rep = await stepDPO(trainer, pairs, c, seed, onStep, replay);
    await trainer.save(modelOut, { ...meta, dpo: { pairs: rep.pairs, steps: rep.steps, final_loss: rep.final_loss } });
    return { ...rep, contract: trainer.last?.contract };
  }

  async close(): Promise<void> {
    const s = this.served;
    this.served = undefined;
    if (s) {
      await s.e.close();
      await s.s.stop();
    }
  }
}
