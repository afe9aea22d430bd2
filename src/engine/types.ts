// The two narrow interfaces the pipeline talks to: generation and scoring sit behind one, so the pipeline
// cannot tell the embedded model from a remote server, and training sits behind the other. The embedded
// engine implements both; remote engines (OpenAI-compatible servers) implement `Engine` only, and a TRL
// bridge implements `Trainer`.

/** Why a completion ended: a stop string matched, max_tokens was reached, or the model emitted EOS. */
export type FinishReason = 'stop' | 'length' | 'eos';

export interface GenerateOptions {
  /** Completions per prompt (default 1). */
  n?: number;
  /** 0 means greedy (argmax); default 1. */
  temperature?: number;
  /** Nucleus sampling mass in (0, 1]; default 1. */
  top_p?: number;
  /** Upper bound on generated tokens per completion (required: no hidden defaults). */
  max_tokens: number;
  /** Stop strings; generation ends when the decoded text contains one. */
  stop?: string[];
  /** Keep the matched stop string at the end of the text (vLLM's include_stop_str_in_output). Default false. */
  include_stop?: boolean;
  /** Base seed. Completion j of prompt i draws from a stream derived from (seed, i, j) only, so results do
   *  not depend on batching, on prefix sharing or on the other prompts in the call. */
  seed?: number;
  /** Per-prompt seeds overriding `seed` (so callers can derive seeds from coordinates). */
  seeds?: number[];
  /** Keep generating after an end-of-sequence token (vLLM's ignore_eos; for benchmarks). Default false. */
  ignore_eos?: boolean;
  /** Also report, per generated token, the k likeliest tokens (OpenAI's logprobs / top_logprobs). Default 0. */
  top_logprobs?: number;
}

export interface Completion {
  text: string;
  /** Generated token ids (the stop string's tokens are included when they were generated). */
  tokens: number[];
  /** Log-probability of each generated token under the sampling distribution's model (temperature 1, no
   *  top-p truncation), i.e. the model's own log p(token | context). */
  logprobs: number[];
  finish_reason: FinishReason;
  /** With opts.top_logprobs = k > 0: per generated token, the k likeliest [token id, log-prob] pairs under the
   *  same distribution as `logprobs`, likeliest first (ties: lower id first). */
  top_logprobs?: Array<Array<[number, number]>>;
}

export interface ScoreRequest {
  prompt: string;
  completion: string;
  /** Append the end-of-sequence token to the completion (a final answer). Default false. */
  eos?: boolean;
}

/** Generation and scoring: what search, judging and evaluation need. */
export interface Engine {
  readonly name: string;
  /** The model's context in tokens, when known (a search ends a problem whose prompts no longer fit). */
  readonly contextTokens?: number;
  tokenize(text: string): number[];
  /** Engines that can only read some text (the embedded model: ASCII) say why a text cannot be read, or
   *  null when it can. Engines without the method take any text. */
  unreadable?(text: string): string | null;
  detokenize(ids: number[]): string;
  /** For each prompt, `n` completions. */
  generate(prompts: string[], opts: GenerateOptions): Promise<Completion[][]>;
  /** Summed log-probability of each completion's tokens given its prompt. */
  logprob(requests: ScoreRequest[]): Promise<number[]>;
  /** Release threads and memory. */
  close(): Promise<void>;
}

export interface SFTExample {
  prompt: string;
  completion: string;
  /** Append EOS after the completion (default true for SFT: whole answers end). */
  eos?: boolean;
}

export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
  /** True when chosen/rejected end the solution: only then is EOS appended (paper §3.4). Default false. */
  final?: boolean;
  /** Per-side overrides of `final`: in step-wise search the chosen step may be the boxed answer while the
   *  rejected one is not (or the reverse), so each side gets EOS only when it ends the solution itself. */
  chosen_final?: boolean;
  rejected_final?: boolean;
  /** Optional precomputed reference log-probs (summed over completion tokens, EOS included when final). */
  ref_chosen?: number;
  ref_rejected?: number;
}

export interface TrainOptions {
  epochs: number;
  lr: number;
  /** Sequences per optimizer step (accumulated over micro-batches as needed). */
  batch_size: number;
  /** Tokens per micro-batch bound (memory); default chosen by the trainer. */
  micro_batch_tokens?: number;
  weight_decay?: number;
  grad_clip?: number;
  /** Fraction of steps spent in linear warmup. */
  warmup_frac?: number;
  /** Final lr as a fraction of lr at the end of the cosine decay. */
  min_lr_frac?: number;
  seed: number;
  /** Called after every optimizer step. */
  onStep?: (info: StepInfo) => void;
  /** Mid-run snapshots so a killed training call resumes where it was (embedded engine only; other
   *  trainers ignore it). See SnapshotOptions. */
  snapshot?: SnapshotOptions;
}

/**
 * Every `every` optimizer steps, and after the last one, the trainer writes `dir`/snapshot.safetensors
 * atomically: weights, AdamW moments and step count, steps done, tokens, wall time and history so far,
 * and a key of the job (starting weights, encoded data, options that shape the step plan). A later call
 * with the same job finds it, restores it and runs only the remaining steps, giving the same result bit
 * for bit as a call never interrupted. A snapshot of any other job is logged and ignored (training starts
 * over and replaces it at its first snapshot). The caller removes `dir` once it has saved the result.
 */
export interface SnapshotOptions {
  dir: string;
  /** Optimizer steps between snapshots (a positive integer). */
  every: number;
  /** Where "ignoring a snapshot" lines go (default: stderr). */
  log?: (line: string) => void;
  /** Called once, before training resumes from a snapshot, with the steps already done. */
  onResume?: (step: number, steps: number) => void;
}

export interface DPOOptions extends TrainOptions {
  beta: number;
  /** Weight of the per-token NLL of the chosen side added to the DPO loss (iterative RPO; 0 or absent: plain DPO). */
  nll_alpha?: number;
  /** IFT replay (absent: none). Not the paper's method: an option against DPO drifting from the solving skill
   *  the model was SFT-trained on. See ReplayOptions. */
  replay?: ReplayOptions;
}

/**
 * IFT replay during DPO: every optimizer step also takes the SFT loss on a few records of `examples`, so the
 * step's loss is the DPO loss (with its NLL term, if any) + weight * (sum of -log p over the drawn records'
 * completion tokens) / (those tokens). A step of B pairs draws max(1, round(per_pair * B)) records, at most
 * the pool's size, without replacement, from a stream derived from (seed, 'replay', step number) alone.
 */
export interface ReplayOptions {
  /** The pool the steps draw from (EOS after a completion unless a record says eos: false). */
  examples: SFTExample[];
  /** Weight of the replay NLL in the step's loss (> 0). */
  weight: number;
  /** Replay records per preference pair of a step (> 0). */
  per_pair: number;
}

export interface StepInfo {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  tokens: number;
  grad_norm: number;
  /** DPO only: share of pairs with chosen reward above rejected. */
  accuracy?: number;
  margin?: number;
  /** DPO with nll_alpha > 0 only: the step's mean NLL per chosen token. */
  chosen_nll?: number;
  /** DPO with replay only: the step's mean NLL per completion token of its replay records. */
  replay_nll?: number;
}

export interface TrainResult {
  steps: number;
  tokens: number;
  final_loss: number;
  wall_s: number;
  history: StepInfo[];
}

/** Training: SFT and DPO on the current weights, and persisting them. */
export interface Trainer {
  trainSFT(examples: SFTExample[], opts: TrainOptions): Promise<TrainResult>;
  trainDPO(pairs: PreferencePair[], opts: DPOOptions): Promise<TrainResult>;
  /** Writes the weights as a checkpoint in `dir`, with `manifest` in its manifest.json. */
  save(dir: string, manifest?: Record<string, unknown>): Promise<void>;
}
