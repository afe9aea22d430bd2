// A short pretrain reproduces itself: the same config and seed give the same M0 and M1 weights, bit for
// bit; a finished stage is reused by a rerun; manifests and curves are written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSafetensors } from '../../src/engine/safetensors.js';
import { DEFAULT_PRETRAIN, pretrain, srlmVariant, type PretrainConfig } from '../../src/train/pretrain.js';

const cfg: PretrainConfig = {
  ...DEFAULT_PRETRAIN,
  model: { n_layer: 1, n_embd: 32, n_head: 2, n_ctx: 512 },
  data_scale: 0.002,
  m0: { ...DEFAULT_PRETRAIN.m0, batch_size: 8 },
  m1: { ...DEFAULT_PRETRAIN.m1, batch_size: 8, epochs: 2 },
  srlm: { ...DEFAULT_PRETRAIN.srlm, stage: { ...DEFAULT_PRETRAIN.srlm.stage, batch_size: 8, epochs: 2 } },
  eval: { problems: 4, judge: 4 },
};

function weights(dir: string): Map<string, Float32Array> {
  return new Map([...readSafetensors(path.join(dir, 'model.safetensors')).tensors].map(([k, v]) => [k, v.data]));
}

test(
  'a short pretrain with the same seed reproduces the same weights; finished stages are reused',
  { timeout: 120_000 },
  async () => {
    const a = mkdtempSync(path.join(tmpdir(), 'psrlm-pt-')),
      b = mkdtempSync(path.join(tmpdir(), 'psrlm-pt-'));
    try {
      const quiet = { log: () => {}, progress: false };
      const ra = await pretrain(cfg, a, quiet);
      await pretrain(cfg, b, quiet);
      for (const stage of ['m0', 'm1', 'm1-srlm']) {
        assert.deepEqual(
          weights(path.join(a, stage)),
          weights(path.join(b, stage)),
          `${stage} differs between two runs`,
        );
        const man = JSON.parse(readFileSync(path.join(a, stage, 'manifest.json'), 'utf8'));
        assert.equal(man.stage, stage === 'm1-srlm' ? 'M1-srlm' : stage.toUpperCase());
        assert.deepEqual(man.config, cfg);
        assert.ok(existsSync(path.join(a, stage, 'curve.json')));
      }
      assert.equal(ra.length, 3);
      assert.ok(ra[1]!.judge_test!.n >= 2, 'the judge was measured on held-out EFT examples');
      assert.ok(ra[2]!.score_test!.n >= 2, 'the SRLM scorer was measured on held-out scored solutions');
      // M1-srlm (the default, whole-solution scorer) starts from M1 and trains on, so it differs from it
      assert.notDeepEqual(weights(path.join(a, 'm1')), weights(path.join(a, 'm1-srlm')));
      // rerun: both stages reused (same reports, no training)
      const lines: string[] = [];
      const again = await pretrain(cfg, a, { log: (l) => lines.push(l), progress: false });
      assert.deepEqual(again, ra);
      assert.ok(
        lines.some((l) => /M0 already built/.test(l)) &&
          lines.some((l) => /M1 already built/.test(l)) &&
          lines.some((l) => /M1-srlm already built/.test(l)),
      );
      // changing only the M1 settings rebuilds M1 and reuses M0
      const lines3: string[] = [];
      const c2 = mkdtempSync(path.join(tmpdir(), 'psrlm-pt-'));
      await pretrain(cfg, c2, quiet);
      await pretrain({ ...cfg, m1: { ...cfg.m1, lr: 1e-3 }, srlm: { ...cfg.srlm, enabled: false } }, c2, {
        log: (l) => lines3.push(l),
        progress: false,
      });
      assert.ok(
        lines3.some((l) => /M0 already built/.test(l)) && lines3.some((l) => /^M1: /.test(l)),
        lines3.join('\n'),
      );
      rmSync(c2, { recursive: true, force: true });
      // changing only the SRLM settings rebuilds only M1-srlm
      const lines2: string[] = [];
      await pretrain({ ...cfg, srlm: { ...cfg.srlm, p_mistake: 0.3 } }, a, {
        log: (l) => lines2.push(l),
        progress: false,
      });
      assert.ok(
        lines2.some((l) => /M1 already built/.test(l)) && lines2.some((l) => /^M1-srlm: /.test(l)),
        lines2.join('\n'),
      );
      // the `steps` scorer variant starts from M0 and goes beside the default, into m1-srlm-steps
      const lines4: string[] = [];
      const before = weights(path.join(a, 'm1-srlm'));
      await pretrain({ ...cfg, srlm: { ...srlmVariant('steps'), stage: cfg.srlm.stage } }, a, {
        log: (l) => lines4.push(l),
        progress: false,
      });
      assert.ok(
        lines4.some((l) => /^M1-srlm \(steps scorer, from M0\)/.test(l)),
        lines4.join('\n'),
      );
      assert.ok(existsSync(path.join(a, 'm1-srlm-steps', 'model.safetensors')));
      assert.deepEqual(weights(path.join(a, 'm1-srlm')), before, 'the default variant is left as it was');
      // a different seed gives different weights
      const c = mkdtempSync(path.join(tmpdir(), 'psrlm-pt-'));
      await pretrain({ ...cfg, seed: 2 }, c, quiet);
      assert.notDeepEqual(weights(path.join(c, 'm0')), weights(path.join(a, 'm0')));
      rmSync(c, { recursive: true, force: true });
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  },
);
