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
// run's manifest began recording the world and data config (every other artifact unchanged)
const GOLDEN = {
  psrlm: {
    'baseline/done/eval': 'e3b0c44298fc1c14',
    'baseline/eval.json': '7d3477999bcf1e2d',
    'iter-1/done/dpo': 'e3b0c44298fc1c14',
    'iter-1/done/eval': 'e3b0c44298fc1c14',
    'iter-1/done/health': 'e3b0c44298fc1c14',
    'iter-1/done/pairs': 'e3b0c44298fc1c14',
    'iter-1/done/search': 'e3b0c44298fc1c14',
    'iter-1/dpo.json': 'c07ea4428e0e82cc',
    'iter-1/eval.json': 'a2f1aadf2fae6771',
    'iter-1/health.json': 'fe0c0b990047e009',
    'iter-1/model/config.json': 'e44b9f56ba3e72cf',
    'iter-1/model/manifest.json': 'cae6778aafdac237',
    'iter-1/model/model.safetensors': 'b6de13fe8978c829',
    'iter-1/model/tokenizer.json': 'ba3d125475a9f283',
    'iter-1/pairs.json': 'f762f936245b2d99',
    'iter-1/pairs.jsonl': '6d13491eca2a37c2',
    'iter-1/pairs.stepdpo.jsonl': 'd8577ac42dcce670',
    'iter-1/pairs.trl.jsonl': '6291dbdcd4b2ae5c',
    'iter-1/samples.jsonl': '7bfc556f0b728d25',
    'iter-1/search.json': '1e2dacc885c5b80f',
    'iter-2/done/dpo': 'e3b0c44298fc1c14',
    'iter-2/done/eval': 'e3b0c44298fc1c14',
    'iter-2/done/health': 'e3b0c44298fc1c14',
    'iter-2/done/pairs': 'e3b0c44298fc1c14',
    'iter-2/done/search': 'e3b0c44298fc1c14',
    'iter-2/dpo.json': '5ede50202eb5d710',
    'iter-2/eval.json': 'ce1adcca4a30366c',
    'iter-2/health.json': '0518fde1440c6abe',
    'iter-2/model/config.json': 'e44b9f56ba3e72cf',
    'iter-2/model/manifest.json': 'adbf194a0a610ffe',
    'iter-2/model/model.safetensors': '6e2231510d56a75e',
    'iter-2/model/tokenizer.json': 'ba3d125475a9f283',
    'iter-2/pairs.json': '559b9cb155106696',
    'iter-2/pairs.jsonl': '19aff6e8972eaf7e',
    'iter-2/pairs.stepdpo.jsonl': 'd98dce69a8487872',
    'iter-2/pairs.trl.jsonl': '4d6af326787381f8',
    'iter-2/samples.jsonl': '7512b9e6f77360cb',
    'iter-2/search.json': 'ab040d093893ae70',
    'manifest.json': '95f8c3e228d2bbcb',
    'report.md': '9ea7fbe51875f8ff',
    'summary.json': '38ab8c54586c5a1b',
  },
  srlm: {
    'baseline/done/eval': 'e3b0c44298fc1c14',
    'baseline/eval.json': 'eb0629ae54910e63',
    'iter-1/done/dpo': 'e3b0c44298fc1c14',
    'iter-1/done/eval': 'e3b0c44298fc1c14',
    'iter-1/done/pairs': 'e3b0c44298fc1c14',
    'iter-1/done/sample': 'e3b0c44298fc1c14',
    'iter-1/dpo.json': '4d4caa1fcb8eb0a6',
    'iter-1/eval.json': '28de7be18c9da9d1',
    'iter-1/model/config.json': 'e44b9f56ba3e72cf',
    'iter-1/model/manifest.json': 'f0fc2185d5dae2e8',
    'iter-1/model/model.safetensors': 'ec2ff6149b1c18b9',
    'iter-1/model/tokenizer.json': 'ba3d125475a9f283',
    'iter-1/pairs.json': 'fdd9d83df3309e32',
    'iter-1/pairs.jsonl': 'aba1d6871b2291e0',
    'iter-1/pairs.trl.jsonl': '8fd4dac570306627',
    'iter-1/sample.json': '890e482a117ea278',
    'iter-1/samples.jsonl': '9ca84ec412cad3ea',
    'iter-2/done/dpo': 'e3b0c44298fc1c14',
    'iter-2/done/eval': 'e3b0c44298fc1c14',
    'iter-2/done/pairs': 'e3b0c44298fc1c14',
    'iter-2/done/sample': 'e3b0c44298fc1c14',
    'iter-2/dpo.json': 'da17ed966ed3c4b6',
    'iter-2/eval.json': '369bf636d9c26682',
    'iter-2/model/config.json': 'e44b9f56ba3e72cf',
    'iter-2/model/manifest.json': '58c3114ff5a820ca',
    'iter-2/model/model.safetensors': 'bab320e3f48c3bc6',
    'iter-2/model/tokenizer.json': 'ba3d125475a9f283',
    'iter-2/pairs.json': '512628ce77fc1765',
    'iter-2/pairs.jsonl': '0e5820e00b7e3fa4',
    'iter-2/pairs.trl.jsonl': 'd626c0394e7e2763',
    'iter-2/sample.json': '838d0ff48507f6dc',
    'iter-2/samples.jsonl': 'b0fdae087efc7688',
    'manifest.json': 'aed52c79e01a36f8',
    'report.md': 'ecb3b130d45a5bf5',
    'summary.json': '10e011fb785f298b',
  },
  html: {
    psrlm: 'c670c15ce9289ab1',
    srlm: 'b31c1eeeaeee36e3',
    psrlm_vs_srlm: '56d11381a1be31fd',
    srlm_vs_psrlm: '9716eea8ced738ef',
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
