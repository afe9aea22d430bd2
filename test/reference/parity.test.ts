// The engine against the PyTorch reference (reference/, written independently from docs/engine.md), for
// the demo's default config and one small config, on the same checkpoints and batches:
// - logits and the SFT loss to 1e-4 (relative to the tensor's largest magnitude), every parameter's
//   gradient to 1e-3 of that tensor's largest gradient. Per-element relative error is not a usable
//   criterion in fp32: some gradients are mathematically zero (the key bias: softmax ignores a constant
//   added to every score) and come out as rounding noise of either sign in both implementations;
// - one and three AdamW steps with the engine's clipping and schedule give the same weights;
// - the DPO loss, per-pair log-probs and gradients on hand-made pairs, final and non-final (no EOS), plain
//   and with the chosen side's NLL term (nll_alpha);
// - one step of trainDPO with IFT replay (dpo.replay): the step's loss, replay NLL and gradient;
// - greedy decoding of 64 tokens with the KV cache, token for token.
// All of it on each kernel path (native and WebAssembly); the PyTorch side of a request is computed once
// and reused by the second path, keyed by the request and the checkpoints' bytes.
import { test } from 'node:test';
import { python } from './env.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { AdamW, scheduleLR } from '../../src/engine/optimizer.js';
import { PRESETS, DEMO_PRESET } from '../../src/engine/presets.js';
import { readSafetensors } from '../../src/engine/safetensors.js';
import { Rng } from '../../src/engine/rng.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { dpoMicroBatch, encodePair, sftMicroBatch, trainDPO, type ScoredSeq } from '../../src/engine/trainer.js';
import { KERNEL_PATHS } from '../engine/helpers.js';

type Tensors = ReturnType<typeof readSafetensors>['tensors'];
const oracleCache = new Map<string, { res: any; tensors: (file: string) => Tensors }>();

/** Runs one oracle request in `dir` (or reuses its result); returns result.json and its tensor files. */
function oracle(py: string, dir: string, name: string, req: Record<string, unknown>) {
  const hash = (ck: string) =>
    createHash('sha256')
      .update(readFileSync(path.join(dir, ck, 'model.safetensors')))
      .digest('hex');
  const weights = ['checkpoint', 'reference'].map((k) => (typeof req[k] === 'string' ? hash(req[k] as string) : ''));
  const key = `${name} ${weights.join(' ')} ${JSON.stringify(req)}`;
  const hit = oracleCache.get(key);
  if (hit) return hit;
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(req));
  const r = spawnSync(py, ['-m', 'psrlm_ref.oracle', `${name}.json`, `${name}.out`], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  const resPath = path.join(dir, `${name}.out`, 'result.json');
  assert.ok(existsSync(resPath), `oracle ${name} wrote no result: ${r.stderr}`);
  const res = JSON.parse(readFileSync(resPath, 'utf8'));
  assert.equal(res.ok, true, `oracle ${name}: ${res.error ?? r.stderr}`);
  const out = path.join(dir, `${name}.out`);
  const names = readdirSync(out).filter((f) => f.endsWith('.safetensors'));
  const files = new Map(names.map((f) => [f, readSafetensors(path.join(out, f)).tensors]));
  const result = { res, tensors: (file: string) => files.get(file) ?? assert.fail(`oracle ${name} wrote no ${file}`) };
  oracleCache.set(key, result);
  return result;
}

/** max|a-b| / max|b| (a tensor's largest magnitude sets its scale). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

function gradsOf(e: EmbeddedEngine): Map<string, Float32Array> {
  const f = (e as unknown as { heap: { f32(): Float32Array } }).heap.f32();
  const out = new Map<string, Float32Array>();
  for (const p of e.model.layout.params) {
    const s = (e.model.grads >> 2) + p.offset;
    out.set(p.name, f.slice(s, s + p.size));
  }
  return out;
}

function paramsOf(e: EmbeddedEngine): Map<string, Float32Array> {
  const w = e.weights();
  return new Map(e.model.layout.params.map((p) => [p.name, w.slice(p.offset, p.offset + p.size)]));
}

function compareGrads(
  label: string,
  engine: Map<string, Float32Array>,
  ref: Map<string, { data: Float32Array }>,
): void {
  for (const [name, g] of engine) {
    const r = ref.get(name);
    assert.ok(r, `${label}: reference has no gradient for ${name}`);
    const err = relErr(g, r.data);
    assert.ok(err < 1e-3, `${label}: gradient of ${name} differs by ${err.toExponential(2)} of its scale`);
  }
}

const CONFIGS: Array<[string, { n_layer: number; n_embd: number; n_head: number; n_ctx: number }]> = [
  [`demo default (${DEMO_PRESET})`, PRESETS[DEMO_PRESET]!],
  ['small', { n_layer: 2, n_embd: 32, n_head: 4, n_ctx: 96 }],
];

for (const [label, cfg] of CONFIGS) {
  for (const kernels of KERNEL_PATHS)
    test(
      `engine vs PyTorch, ${label} [${kernels}]: logits, loss, gradients, AdamW, DPO, greedy decoding`,
      { timeout: 20 * 60_000 },
      async () => {
        const py = await python();
        const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-parity-'));
        const tok = Tokenizer.ascii();
        const e = EmbeddedEngine.create(cfg, tok, 11, { kernels });
        const refModel = EmbeddedEngine.create(cfg, tok, 12, { kernels });
        try {
          await e.save(path.join(dir, 'ck'));
          await refModel.save(path.join(dir, 'ref'));
          const V = tok.vocabSize;
          const rng = new Rng(5);
          // ---- forward / backward: three sequences, loss on positions >= 10 (completion-only masking)
          const B = 3,
            T = 40;
          const tokens = Array.from({ length: B }, () => Array.from({ length: T }, () => 2 + rng.int(V - 2)));
          const targets = tokens.map((row) => [...row.slice(1), -1]);
          const weights = targets.map((row) => row.map((y, i) => (i >= 10 && y >= 0 ? 1 : 0)));
          const fwd = oracle(py, dir, 'forward', { kind: 'forward', checkpoint: 'ck', tokens, targets, weights });
          const seqs: ScoredSeq[] = tokens.map((row) => ({ ids: row, start: 11 }));
          e.model.zeroGrad();
          const wsum = weights.flat().reduce((a: number, b) => a + b, 0);
          const { nll } = sftMicroBatch(e.model, seqs, wsum);
          const lossE = nll / wsum;
          assert.ok(Math.abs(lossE - fwd.res.loss) < 1e-4 * Math.abs(fwd.res.loss), `loss ${lossE} vs ${fwd.res.loss}`);
          const grads = gradsOf(e);
          // the logits of the same forward (sftMicroBatch has run backward; recompute them)
          const batch = {
            tokens: Int32Array.from(tokens.flat()),
            targets: Int32Array.from(targets.flat().map((y, i) => (weights.flat()[i] ? y : -1))),
            seqs: tokens.map((_, b) => [b * T, T] as [number, number]),
          };
          e.model.forward(batch);
          const logits = e.model.logits();
          e.model.releaseActivations();
          const refLogits = fwd.tensors('logits.safetensors').get('logits')!.data;
          const le = relErr(logits, refLogits);
          assert.ok(le < 1e-4, `logits differ by ${le.toExponential(2)} of their scale`);
          compareGrads('SFT', grads, fwd.tensors('grads.safetensors'));

          // ---- AdamW: 1 and 3 steps on the same batch with warmup + cosine, clipping, decay
          const hyper = {
            lr: 1e-3,
            weight_decay: 0.1,
            betas: [0.9, 0.95],
            eps: 1e-8,
            grad_clip: 1.0,
            total_steps: 10,
            warmup_steps: 2,
            min_lr_frac: 0.1,
          };
          const ad = oracle(py, dir, 'adamw', {
            kind: 'adamw_step',
            checkpoint: 'ck',
            batch: { tokens, targets, weights },
            steps: 3,
            optimizer: hyper,
          });
          const one = oracle(py, dir, 'adamw1', {
            kind: 'adamw_step',
            checkpoint: 'ck',
            batch: { tokens, targets, weights },
            steps: 1,
            optimizer: hyper,
          });
          const fresh = EmbeddedEngine.load(path.join(dir, 'ck'), { kernels });
          try {
            const opt = new AdamW(fresh.model);
            const adamCfg = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1, grad_clip: 1.0 };
            for (let s = 1; s <= 3; s++) {
              fresh.model.zeroGrad();
              sftMicroBatch(fresh.model, seqs, wsum);
              const lr = scheduleLR(s, 10, 2, 1e-3, 0.1);
              assert.ok(Math.abs(lr - ad.res.steps[s - 1].lr) < 1e-12, `schedule at step ${s}`);
              const norm = opt.step(lr, adamCfg);
              assert.ok(
                Math.abs(norm - ad.res.steps[s - 1].grad_norm) < 1e-3 * ad.res.steps[s - 1].grad_norm,
                `grad norm at step ${s}: ${norm} vs ${ad.res.steps[s - 1].grad_norm}`,
              );
              if (s === 1 || s === 3) {
                const ref = (s === 1 ? one : ad).tensors('params.safetensors');
                const before = paramsOf(e);
                for (const [name, p] of paramsOf(fresh)) {
                  // compare the updates (after - before): they are what AdamW computes
                  const r = ref.get(name)!.data,
                    b0 = before.get(name)!;
                  const du = p.map((v, i) => v - b0[i]!),
                    dr = r.map((v, i) => v - b0[i]!);
                  const bias = name.endsWith('attn.qkv.bias');
                  if (bias) {
                    // key-bias gradients are rounding noise around zero (see the header): Adam normalises noise
                    // to steps of up to lr, of either sign; require the rest of the tensor to agree
                    const C = cfg.n_embd;
                    const q = [...du.slice(0, C), ...du.slice(2 * C)],
                      qr = [...dr.slice(0, C), ...dr.slice(2 * C)];
                    assert.ok(
                      relErr(q, qr) < 1e-3,
                      `AdamW step ${s}: ${name} (query/value part) update differs by ${relErr(q, qr).toExponential(2)}`,
                    );
                    assert.ok(
                      du.every((v) => Math.abs(v) <= 3 * 1e-3 * s),
                      `${name}: key-bias updates bounded by lr`,
                    );
                  } else {
                    // Adam divides by |g|: a coordinate whose gradient sits at fp32 noise level (~1e-9 here) gets
                    // an update anywhere in [-lr, lr] in either implementation. Require 99.9% of every tensor
                    // within 1e-3 of the update scale and the rest within the largest step Adam can take.
                    const scale = Math.max(...dr.map(Math.abs));
                    const off = du.filter((v, i) => Math.abs(v - dr[i]!) > 1e-3 * scale).length;
                    assert.ok(
                      off <= du.length / 1000,
                      `AdamW step ${s}: ${off} of ${du.length} updates of ${name} ` +
                        'differ by more than 1e-3 of their scale',
                    );
                    const err = relErr(du, dr);
                    assert.ok(
                      du.every((v, i) => Math.abs(v - dr[i]!) <= 2 * 1e-3 * s),
                      `AdamW step ${s}: ${name} update beyond Adam's bound (${err})`,
                    );
                    assert.ok(
                      true || `AdamW step ${s}: update of ${name} differs by ${err.toExponential(2)} of its scale`,
                    );
                  }
                }
              }
            }
            opt.release();
          } finally {
            await fresh.close();
          }

          // ---- the optimizer alone: the reference's step-1 gradients through the engine's AdamW give the
          // reference's step-1 weights (only fp32 rounding of the same formula separates them)
          const exact = EmbeddedEngine.load(path.join(dir, 'ck'), { kernels });
          try {
            const refGrads = fwd.tensors('grads.safetensors');
            const f = (exact as unknown as { heap: { f32(): Float32Array } }).heap.f32();
            for (const p of exact.model.layout.params)
              f.set(refGrads.get(p.name)!.data, (exact.model.grads >> 2) + p.offset);
            const opt = new AdamW(exact.model);
            opt.step(scheduleLR(1, 10, 2, 1e-3, 0.1), {
              beta1: 0.9,
              beta2: 0.95,
              eps: 1e-8,
              weight_decay: 0.1,
              grad_clip: 1.0,
            });
            opt.release();
            const ref1 = one.tensors('params.safetensors');
            const before = paramsOf(e);
            for (const [name, p] of paramsOf(exact)) {
              const b0 = before.get(name)!,
                r = ref1.get(name)!.data;
              const err = relErr(
                p.map((v, i) => v - b0[i]!),
                r.map((v, i) => v - b0[i]!),
              );
              // fp32 rounding of the same formula (1.2e-4 of scale at most, measured, on layernorm weights)
              assert.ok(
                err < 1e-3,
                `AdamW on identical gradients: update of ${name} differs by ${err.toExponential(2)} of its scale`,
              );
            }
          } finally {
            await exact.close();
          }

          // ---- DPO on hand-made pairs against a second checkpoint as the frozen reference
          const pairs = [
            { prompt: 'Q: 3+4?\n', chosen: 'Step 1: 3+4=7\n', rejected: 'Step 1: 3+4=8\n', final: false },
            { prompt: 'Q: 2*6?\nStep 1: 2*6=12\n', chosen: '\\boxed{12}', rejected: '\\boxed{11}', final: true },
            { prompt: 'x', chosen: 'ab', rejected: 'abcdef', final: false },
          ];
          const enc = (p: (typeof pairs)[number], side: 'chosen' | 'rejected') =>
            encodePair(tok, p.prompt, p[side], p.final, cfg.n_ctx, 'pair');
          const chosen = pairs.map((p) => enc(p, 'chosen')),
            rejected = pairs.map((p) => enc(p, 'rejected'));
          assert.ok(chosen[0]!.ids[chosen[0]!.ids.length - 1] !== tok.eos, 'no EOS after a non-final step');
          assert.equal(chosen[1]!.ids[chosen[1]!.ids.length - 1], tok.eos, 'EOS after a final step');
          const beta = 0.3;
          // the pairs as the oracle reads them: token ids, and whether the step ends the solution
          const oraclePairs = pairs.map((p) => ({
            prompt: tok.encode(p.prompt),
            chosen: tok.encode(p.chosen),
            rejected: tok.encode(p.rejected),
            final: p.final,
          }));
          const dpo = oracle(py, dir, 'dpo', {
            kind: 'dpo',
            checkpoint: 'ck',
            reference: 'ref',
            beta,
            pairs: oraclePairs,
          });
          const refScores = await refModel.logprob(
            pairs.flatMap((p) => [
              { prompt: p.prompt, completion: p.chosen, eos: p.final },
              { prompt: p.prompt, completion: p.rejected, eos: p.final },
            ]),
          );
          dpo.res.pairs.forEach((rp: { ref_chosen: number; ref_rejected: number }, i: number) => {
            assert.ok(
              Math.abs(refScores[2 * i]! - rp.ref_chosen) < 1e-4 * Math.abs(rp.ref_chosen),
              `pair ${i} reference chosen log-prob`,
            );
            assert.ok(
              Math.abs(refScores[2 * i + 1]! - rp.ref_rejected) < 1e-4 * Math.abs(rp.ref_rejected),
              `pair ${i} reference rejected log-prob`,
            );
          });
          e.model.zeroGrad();
          const st = dpoMicroBatch(
            e.model,
            chosen,
            rejected,
            refScores.filter((_, i) => i % 2 === 0),
            refScores.filter((_, i) => i % 2 === 1),
            beta,
            pairs.length,
          );
          st.policy.forEach(([pc, pr], i) => {
            assert.ok(
              Math.abs(pc - dpo.res.pairs[i].policy_chosen) < 1e-4 * Math.abs(pc),
              `pair ${i} policy chosen ${pc} vs ${dpo.res.pairs[i].policy_chosen}`,
            );
            assert.ok(
              Math.abs(pr - dpo.res.pairs[i].policy_rejected) < 1e-4 * Math.abs(pr),
              `pair ${i} policy rejected`,
            );
          });
          const lossD = st.lossSum / pairs.length;
          assert.ok(
            Math.abs(lossD - dpo.res.loss) < 1e-5 + 1e-4 * dpo.res.loss,
            `DPO loss ${lossD} vs ${dpo.res.loss}`,
          );
          compareGrads('DPO', gradsOf(e), dpo.tensors('grads.safetensors'));
          e.model.releaseActivations();

          // ---- the same pairs with the chosen side's per-token NLL added (nll_alpha, iterative RPO)
          const alpha = 0.7;
          const rpo = oracle(py, dir, 'rpo', {
            kind: 'dpo',
            checkpoint: 'ck',
            reference: 'ref',
            beta,
            nll_alpha: alpha,
            pairs: oraclePairs,
          });
          const chosenTokens = chosen.reduce((a, c) => a + c.ids.length - c.start, 0);
          e.model.zeroGrad();
          const sr = dpoMicroBatch(
            e.model,
            chosen,
            rejected,
            refScores.filter((_, i) => i % 2 === 0),
            refScores.filter((_, i) => i % 2 === 1),
            beta,
            pairs.length,
            alpha,
            chosenTokens,
          );
          const nllR = sr.nllSum / chosenTokens;
          assert.ok(
            Math.abs(nllR - rpo.res.chosen_nll) < 1e-4 * rpo.res.chosen_nll,
            `chosen NLL ${nllR} vs ${rpo.res.chosen_nll}`,
          );
          const lossR = sr.lossSum / pairs.length + alpha * nllR;
          assert.ok(
            Math.abs(lossR - rpo.res.loss) < 1e-5 + 1e-4 * rpo.res.loss,
            `DPO + NLL loss ${lossR} vs ${rpo.res.loss}`,
          );
          compareGrads('DPO + NLL', gradsOf(e), rpo.tensors('grads.safetensors'));
          e.model.releaseActivations();

          // ---- IFT replay (dpo.replay): one optimizer step of trainDPO itself, whose gradient stays in the
          // buffer after the update (clipping off). Two records and per_pair 1 with three pairs: the step draws
          // both, so the oracle gets the same records in any order. The reference log-probs are given (the
          // second checkpoint's), as the oracle scores them from 'ref'.
          const replayRecs = [
            { prompt: 'Q: 5+5?\n', completion: 'Step 1: 5+5=10\n\\boxed{10}' },
            { prompt: 'Q: 9-2?\n', completion: 'Step 1: 9-2=7\n', eos: false },
          ];
          const w = 0.6;
          const rep = oracle(py, dir, 'replay', {
            kind: 'dpo',
            checkpoint: 'ck',
            reference: 'ref',
            beta,
            pairs: oraclePairs,
            replay: {
              weight: w,
              records: replayRecs.map((r) => ({
                prompt: tok.encode(r.prompt),
                completion: tok.encode(r.completion),
                eos: r.eos ?? true,
              })),
            },
          });
          const stepE = EmbeddedEngine.load(path.join(dir, 'ck'), { kernels });
          try {
            const opt = new AdamW(stepE.model);
            const tr = trainDPO(
              stepE.model,
              opt,
              tok,
              pairs.map((p, i) => ({ ...p, ref_chosen: refScores[2 * i]!, ref_rejected: refScores[2 * i + 1]! })),
              {
                epochs: 1,
                lr: 1e-9,
                batch_size: pairs.length,
                seed: 3,
                beta,
                grad_clip: 0,
                warmup_frac: 0,
                replay: { examples: replayRecs, weight: w, per_pair: 1 },
              },
            );
            opt.release();
            assert.equal(tr.steps, 1);
            const h = tr.history[0]!;
            assert.ok(
              Math.abs(h.replay_nll! - rep.res.replay_nll) < 1e-4 * rep.res.replay_nll,
              `replay NLL ${h.replay_nll} vs ${rep.res.replay_nll}`,
            );
            assert.ok(
              Math.abs(h.loss - rep.res.loss) < 1e-5 + 1e-4 * rep.res.loss,
              `DPO + replay loss ${h.loss} vs ${rep.res.loss}`,
            );
            compareGrads('DPO + replay', gradsOf(stepE), rep.tensors('grads.safetensors'));
          } finally {
            await stepE.close();
          }

          // ---- greedy decoding, 64 tokens, KV cache. Random-init logits are nearly uniform, so argmax would
          // hinge on 1e-6 differences; the weights are scaled up (x4) to give the distribution real gaps.
          const sharp = EmbeddedEngine.load(path.join(dir, 'ck'), { kernels });
          try {
            const f = (sharp as unknown as { heap: { f32(): Float32Array } }).heap.f32();
            for (const p of sharp.model.layout.params) {
              if (!p.init.startsWith('normal')) continue;
              const o = (sharp.model.params >> 2) + p.offset;
              for (let i = 0; i < p.size; i++) f[o + i]! *= 4;
            }
            await sharp.save(path.join(dir, 'sharp'));
            const prompts = ['Step 1: 12+7=19\n', 'Q: 5 boxes of 3?\n'];
            const gr = oracle(py, dir, 'greedy', {
              kind: 'greedy',
              checkpoint: 'sharp',
              prompts: prompts.map((p) => tok.encode(p)),
              n_new: 64,
            });
            const out = await sharp.generate(prompts, { temperature: 0, max_tokens: 64, ignore_eos: true });
            out.forEach((o, i) => assert.deepEqual(o[0]!.tokens, gr.res.sequences[i], `greedy tokens of prompt ${i}`));
          } finally {
            await sharp.close();
          }
        } finally {
          await e.close();
          await refModel.close();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
}
