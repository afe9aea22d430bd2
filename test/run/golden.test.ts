// The regression oracle of the loop: a tiny but complete run of each method (PSRLM and the SRLM baseline,
// two iterations each, every stage) from the tiny M1s of test/run/tiny.ts, and the sha256 of each
// deterministic artifact compared to the values recorded from a known-good version of the code. A refactor
// of the loop, its methods, its summary or its reports must leave every hash as it is; a change that is
// meant to change a method's results must re-record them, and say why.
//
// What is hashed: every file a run writes except those that hold wall times or engine token counts
// (timings.json, engine_tokens.json, report.html as written); run-specific text (the temporary directory,
// the Node version in manifest.json) is replaced by a fixed placeholder first. report.html is rendered again
// with the timings left out, for each run alone and beside the other method's run as its baseline.
// The hashes pin this engine's floating-point results: the WebAssembly kernels are deterministic, but a
// Node (V8) release that changed a Math function would change sampled text and so every hash; re-record
// them then from a version of the code known to be unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../../src/run/config.js';
import { runLoop } from '../../src/run/loop.js';
import { renderReport } from '../../src/run/report.js';
import { tinyM1, tinySrlmM1 } from './tiny.js';
import { files, measuredOnly } from './artifacts.js';

// 64 bits of the sha256 are plenty to tell a changed artifact, and keep the recorded table readable
// The hashes are of the WebAssembly kernels, whose results are the same bits on every x86-64 machine with
// FMA. The native kernels agree with them only to float rounding (their sums run in another order, which
// differs between AVX-512 and AVX2), so this oracle pins the WebAssembly path.
process.env.PSRLM_KERNELS = 'wasm';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** The artifacts of a run as text or bytes with the run-specific parts replaced, by relative path. */
function hashes(dir: string, root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of files(dir).filter(measuredOnly)) {
    const buf = readFileSync(path.join(dir, f));
    const text = buf.toString('utf8');
    // binary files (weights) are hashed as they are; text loses the temporary root and the Node version
    const fixed = buf.equals(Buffer.from(text, 'utf8'))
      ? text.split(root).join('<root>').split(JSON.stringify(process.version)).join('"<node>"')
      : buf;
    out[f] = sha(fixed);
  }
  return out;
}

const html = (run: string, root: string, baseline?: string) => {
  // the stage table shows wall times: render without them
  rmSync(path.join(run, 'timings.json'), { force: true });
  rmSync(path.join(run, 'engine_tokens.json'), { force: true });
  if (baseline) {
    rmSync(path.join(baseline, 'timings.json'), { force: true });
    rmSync(path.join(baseline, 'engine_tokens.json'), { force: true });
  }
  return sha(
    renderReport(run, baseline ? { baseline } : {})
      .split(root)
      .join('<root>'),
  );
};

// recorded from the loop as it was before the methods were split behind one interface; eval.json and report.html
// re-recorded when evaluations began keeping per-problem results (`correct`, `by_steps`) and the report their
// paired differences and accuracy by steps needed (every other artifact unchanged); eval.json and the
// manifests re-recorded when evaluations began counting sums and differences by the way they were written
// (`ways`) and the resolved config's default step and solution budgets grew to 72 and 384 tokens (the tiny
// models' IFT stays in one line per step: every other artifact unchanged); the manifests re-recorded when the
// run's manifest began recording the world and data config (every other artifact unchanged); every artifact
// re-recorded when train problems began taking 2-7 steps (the tiny models' IFT and the loop's questions changed)
const GOLDEN = {
  psrlm: {
    'baseline/done/eval': 'e3b0c44298fc1c14',
    'baseline/eval.json': 'f8aa3c9ee472073f',
    'iter-1/done/dpo': 'e3b0c44298fc1c14',
    'iter-1/done/eval': 'e3b0c44298fc1c14',
    'iter-1/done/health': 'e3b0c44298fc1c14',
    'iter-1/done/pairs': 'e3b0c44298fc1c14',
    'iter-1/done/search': 'e3b0c44298fc1c14',
    'iter-1/dpo.json': '219b942f12e29aaa',
    'iter-1/eval.json': '93eb5aaf95ef1a61',
    'iter-1/health.json': 'fe0c0b990047e009',
    'iter-1/model/config.json': 'e44b9f56ba3e72cf',
    'iter-1/model/manifest.json': '601f90e4f3981baa',
    'iter-1/model/model.safetensors': '997e9a546682d114',
    'iter-1/model/tokenizer.json': 'ba3d125475a9f283',
    'iter-1/pairs.json': '559b9cb155106696',
    'iter-1/pairs.jsonl': 'f562bb8133dbe18a',
    'iter-1/pairs.stepdpo.jsonl': '9c5b512751b8508e',
    'iter-1/pairs.trl.jsonl': 'd5bb4f192dd21623',
    'iter-1/samples.jsonl': '90bf960fd3516d33',
    'iter-1/search.json': '7fd4d9ee472ae7a2',
    'iter-2/done/dpo': 'e3b0c44298fc1c14',
    'iter-2/done/eval': 'e3b0c44298fc1c14',
    'iter-2/done/health': 'e3b0c44298fc1c14',
    'iter-2/done/pairs': 'e3b0c44298fc1c14',
    'iter-2/done/search': 'e3b0c44298fc1c14',
    'iter-2/dpo.json': '133e705285215491',
    'iter-2/eval.json': '7464e05b6f86a4f8',
    'iter-2/health.json': '27002b2494aa8023',
    'iter-2/model/config.json': 'e44b9f56ba3e72cf',
    'iter-2/model/manifest.json': 'fa978289172eb4d4',
    'iter-2/model/model.safetensors': '6d405179d940e9f2',
    'iter-2/model/tokenizer.json': 'ba3d125475a9f283',
    'iter-2/pairs.json': '559b9cb155106696',
    'iter-2/pairs.jsonl': 'f60ae13d2c6e0049',
    'iter-2/pairs.stepdpo.jsonl': 'ddec81fe8a9fa654',
    'iter-2/pairs.trl.jsonl': '8a57121da7695215',
    'iter-2/samples.jsonl': 'ad0f0164557c81e1',
    'iter-2/search.json': 'e71cf1553a33a777',
    'manifest.json': '2d83bda4a494e7fc',
    'report.md': '29ce485ce277c86c',
    'summary.json': '4f92fadbfb776c12',
  },
  srlm: {
    'baseline/done/eval': 'e3b0c44298fc1c14',
    'baseline/eval.json': 'c4c05c3cdf67120d',
    'iter-1/done/dpo': 'e3b0c44298fc1c14',
    'iter-1/done/eval': 'e3b0c44298fc1c14',
    'iter-1/done/pairs': 'e3b0c44298fc1c14',
    'iter-1/done/sample': 'e3b0c44298fc1c14',
    'iter-1/dpo.json': '7eeefeda996ba61e',
    'iter-1/eval.json': 'ee93fa9e9b80f036',
    'iter-1/model/config.json': 'e44b9f56ba3e72cf',
    'iter-1/model/manifest.json': '056d1280b2cd7837',
    'iter-1/model/model.safetensors': '69c48b487effac00',
    'iter-1/model/tokenizer.json': 'ba3d125475a9f283',
    'iter-1/pairs.json': '22a9d5fc4ef8b8a4',
    'iter-1/pairs.jsonl': '0dab26001b14e5bc',
    'iter-1/pairs.trl.jsonl': 'bd334a17d72bee5a',
    'iter-1/sample.json': '8abee866e73995d7',
    'iter-1/samples.jsonl': '29178647ceee94f3',
    'iter-2/done/dpo': 'e3b0c44298fc1c14',
    'iter-2/done/eval': 'e3b0c44298fc1c14',
    'iter-2/done/pairs': 'e3b0c44298fc1c14',
    'iter-2/done/sample': 'e3b0c44298fc1c14',
    'iter-2/dpo.json': 'be05729a8ef40d43',
    'iter-2/eval.json': '8e8e5cf810511dc4',
    'iter-2/model/config.json': 'e44b9f56ba3e72cf',
    'iter-2/model/manifest.json': '571c9d5005afaaf7',
    'iter-2/model/model.safetensors': 'ae0ffac4459a5b79',
    'iter-2/model/tokenizer.json': 'ba3d125475a9f283',
    'iter-2/pairs.json': 'ec843ebf687012f1',
    'iter-2/pairs.jsonl': '69c976c08e506a53',
    'iter-2/pairs.trl.jsonl': '9a25ae86e68b6b2a',
    'iter-2/sample.json': '94b19a181aeaacba',
    'iter-2/samples.jsonl': '857b56adafce5dc2',
    'manifest.json': 'e4ebfdfac19871c3',
    'report.md': '04f2cd6f8526aa90',
    'summary.json': 'f0cd556db6261b24',
  },
  html: {
    psrlm: '1ac4af48541587bf',
    srlm: '39c2d756c3dcf01e',
    psrlm_vs_srlm: 'e13d54d868460d8b',
    srlm_vs_psrlm: 'f13f405e0a9c3409',
  },
};

test('tiny PSRLM and SRLM runs give the recorded artifacts, byte for byte', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'psrlm-golden-'));
  try {
    const quiet = { log: () => {}, progress: false };
    await tinyM1(path.join(root, 'm1'));
    await tinySrlmM1(path.join(root, 'm1-srlm'));
    const common = {
      iterations: 2,
      problems: [4, 3],
      dpo: { batch_size: 4, lr: 0.001 },
      eval: { problems: 2, judge: 2, max_tokens: 24, step_prefixes: 2 },
      threads: 1,
    };
    const P = path.join(root, 'psrlm'),
      S = path.join(root, 'srlm');
    await runLoop(
      resolveConfig({
        ...common,
        seed: 3,
        model: path.join(root, 'm1'),
        health: { prefixes: 2 },
        search: {
          candidates: 3,
          max_step_tokens: 16,
          judge_max_tokens: 8,
          both_orders: false,
          max_steps: 3,
          max_rollbacks: 1,
          batch_problems: 2,
        },
      }),
      P,
      quiet,
    );
    await runLoop(
      resolveConfig({
        ...common,
        method: 'srlm',
        seed: 5,
        model: path.join(root, 'm1-srlm'),
        srlm: { samples: 3, score_samples: 2, max_tokens: 96, score_max_tokens: 12 },
        search: { batch_problems: 2 },
      }),
      S,
      quiet,
    );
    // not vacuous: every iteration of both runs made pairs and trained on them
    for (const run of [P, S]) {
      for (const t of [1, 2]) {
        const d = path.join(run, `iter-${t}`);
        assert.ok(readFileSync(path.join(d, 'pairs.jsonl'), 'utf8').length > 0, `${d} has pairs`);
        assert.ok(JSON.parse(readFileSync(path.join(d, 'dpo.json'), 'utf8')).steps > 0, `${d} trained`);
      }
    }
    const got = {
      psrlm: hashes(P, root),
      srlm: hashes(S, root),
      html: {
        psrlm: html(P, root),
        srlm: html(S, root),
        psrlm_vs_srlm: html(P, root, S),
        srlm_vs_psrlm: html(S, root, P),
      },
    };
    assert.deepEqual(got, GOLDEN, `the loop's artifacts changed; got ${JSON.stringify(got, null, 2)}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
