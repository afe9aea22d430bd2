// The real-data builders end to end through `psrlm serve` (docs/data.md): a tiny world-trained model is served
// by the real CLI in its own process, and `psrlm data eft` (policy, rollout verifier and annotator all on
// that server) and `psrlm data segment` (the model as segmenter) run against it over HTTP. Checks the
// plumbing, not the model: every output file, counts that add up, one record per problem, and that the
// call cache answers a repeated run completely (deleting the records and rerunning sends no request and
// gives the same records). The tiny model's judge always answers [[A]], so any pair it finds is dropped
// in the BA order, and its segmentations fail the validator: the reasons must be recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyM1 } from '../run/tiny.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

/** Starts `psrlm serve` on a free port and resolves with its base URL (printed on stdout once it listens). */
function startServe(model: string): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--model', model, '--port', '0', '--threads', '1', '--served-model-name', 'tiny'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '',
      err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('exit', (code) => reject(new Error(`psrlm serve exited ${code}: ${err}`)));
  });
}

test(
  'psrlm data eft and data segment through psrlm serve: outputs, counts, call cache',
  { timeout: 600_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-real-serve-'));
    const model = path.join(dir, 'm1');
    await tinyM1(model);
    const { url, child } = await startServe(model);
    try {
      const problems = path.join(dir, 'problems.jsonl');
      const w = spawnSync(process.execPath, [CLI, 'world', 'sample', '--n', '4', '--split', 'test', '--json'], {
        encoding: 'utf8',
      });
      assert.equal(w.status, 0, w.stderr);
      writeFileSync(problems, w.stdout);
      const spec = `openai:${url}?model=tiny`;

      // ---- EFT by verified step search: policy, rollouts and annotator on the served model
      const out = path.join(dir, 'eft');
      const eftArgs = [
        CLI,
        'data',
        'eft',
        '--input',
        problems,
        '--engine',
        spec,
        '--annotator',
        spec,
        '--verifier',
        'rollouts',
        '--out',
        out,
        '--template',
        'compact',
        '--width',
        '4',
        '--rollouts',
        '3',
        '--max-layers',
        '3',
        '--max-step-tokens',
        '48',
        '--rollout-max-tokens',
        '160',
        '--annotator-max-tokens',
        '64',
        '--test-share',
        '0.5',
        '--seed',
        '5',
      ];
      const e1 = spawnSync(process.execPath, eftArgs, { encoding: 'utf8' });
      assert.equal(e1.status, 0, e1.stderr.slice(-2000));
      const recs = lines(path.join(out, 'records.jsonl')).map(
        (l) =>
          JSON.parse(l) as {
            problem_id: string;
            layers: number;
            ties: number;
            calls: number;
            pairs: Array<{ kept: boolean; dropped?: string; best_score: number; worst_score: number }>;
          },
      );
      assert.equal(recs.length, 4, 'one record per problem');
      const man = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
        counts: {
          problems: number;
          layers: number;
          tied_layers: number;
          pairs_found: number;
          kept: number;
          dropped: Record<string, number>;
          engine_calls: number;
        };
        engines: Record<string, string>;
        options: { width: number; rollouts: number };
      };
      const c = man.counts;
      assert.equal(c.problems, 4);
      assert.equal(
        c.layers,
        recs.reduce((a, r) => a + r.layers, 0),
      );
      assert.equal(c.pairs_found + c.tied_layers <= c.layers, true);
      assert.equal(
        c.kept + Object.values(c.dropped).reduce((a, b) => a + b, 0),
        c.pairs_found,
        'every pair is kept or dropped with a reason',
      );
      for (const p of recs.flatMap((r) => r.pairs)) assert.ok(p.best_score > p.worst_score);
      assert.equal(man.options.width, 4);
      assert.equal(man.options.rollouts, 3);
      // policy calls: width per layer; rollouts: up to width x rollouts per layer; annotator: 2 per pair
      assert.ok(c.engine_calls >= 4 * c.layers && c.engine_calls <= (4 + 4 * 3) * c.layers + 2 * c.pairs_found);
      const train = lines(path.join(out, 'eft-train.jsonl')),
        held = lines(path.join(out, 'eft-test.jsonl'));
      assert.equal(train.length + held.length, 2 * c.kept, 'two examples (AB, BA) per kept pair');
      const cache = path.join(out, 'calls-policy.jsonl');
      const cached = lines(cache).length;
      assert.ok(cached > 0, 'the policy calls went through the call cache');

      // ---- the same run again with the records gone: answered from the cache, identical records (appended as
      // problems finish, several side by side, so compared as a set) and identical EFT files
      const sorted = (f: string) => readFileSync(f, 'utf8').trim().split('\n').sort();
      const before = sorted(path.join(out, 'records.jsonl'));
      const trainBefore = readFileSync(path.join(out, 'eft-train.jsonl'), 'utf8');
      rmSync(path.join(out, 'records.jsonl'));
      const e2 = spawnSync(process.execPath, eftArgs, { encoding: 'utf8' });
      assert.equal(e2.status, 0, e2.stderr.slice(-2000));
      assert.deepEqual(sorted(path.join(out, 'records.jsonl')), before);
      assert.equal(readFileSync(path.join(out, 'eft-train.jsonl'), 'utf8'), trainBefore, 'EFT files in input order');
      assert.equal(lines(cache).length, cached, 'no new policy call: the cache answered them all');

      // ---- the PRM verifier on the same server (P("+") from top log-probs): the tiny model's candidates
      // mostly tie under rollouts (none reaches the gold), while its P("+") separates them, so here the
      // layers make pairs and the annotator is asked in both orders
      const outPrm = path.join(dir, 'eft-prm');
      const p1 = spawnSync(
        process.execPath,
        [
          ...eftArgs.slice(0, eftArgs.indexOf('--verifier')),
          '--verifier',
          `prm=${spec}`,
          ...eftArgs.slice(eftArgs.indexOf('--verifier') + 2).map((a) => (a === out ? outPrm : a)),
        ],
        { encoding: 'utf8' },
      );
      assert.equal(p1.status, 0, p1.stderr.slice(-2000));
      const pm = JSON.parse(readFileSync(path.join(outPrm, 'manifest.json'), 'utf8')) as {
        counts: { pairs_found: number; kept: number; dropped: Record<string, number> };
        engines: { verifier: string };
      };
      assert.match(pm.engines.verifier, /tiny/);
      assert.ok(pm.counts.pairs_found > 0, `the PRM scores separated some candidates (${JSON.stringify(pm.counts)})`);
      assert.equal(pm.counts.kept + Object.values(pm.counts.dropped).reduce((a, b) => a + b, 0), pm.counts.pairs_found);
      assert.equal(
        lines(path.join(outPrm, 'calls-annotator.jsonl')).length > 0,
        true,
        'the annotator was called through its cache',
      );

      // ---- a bad count is refused with a clear message, before anything runs
      const bad = spawnSync(process.execPath, [...eftArgs.slice(0, -2), '--width', 'six'], { encoding: 'utf8' });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /--width must be a positive integer, got 'six'/);

      // ---- segmentation with the served model: its outputs are validated, every item kept or rejected with a reason
      const gsm = path.join(dir, 'gsm.jsonl');
      writeFileSync(
        gsm,
        lines(path.join(ROOT, 'data', 'train', 'gsm8k_train.jsonl'))
          .slice(0, 3)
          .join('\n') + '\n',
      );
      const segOut = path.join(dir, 'ift.jsonl');
      const s = spawnSync(
        process.execPath,
        [
          CLI,
          'data',
          'segment',
          '--input',
          gsm,
          '--engine',
          spec,
          '--out',
          segOut,
          '--template',
          'compact',
          '--max-tokens',
          '64',
          '--batch',
          '2',
        ],
        { encoding: 'utf8' },
      );
      assert.equal(s.status, 0, s.stderr.slice(-2000));
      const sm = JSON.parse(readFileSync(`${segOut}.manifest.json`, 'utf8')) as {
        items: number;
        kept: number;
        rejected: Record<string, number>;
      };
      assert.equal(sm.items, 3);
      assert.equal(sm.kept + Object.values(sm.rejected).reduce((a, b) => a + b, 0), 3);
      for (const r of lines(`${segOut}.rejected.jsonl`).map(
        (l) => JSON.parse(l) as { reason: string; output: string | null },
      )) {
        assert.match(r.reason, /^(no_steps|numbering|no_box|text_changed|wrong_answer)$/);
        assert.equal(typeof r.output, 'string', 'the rejected output is kept for inspection');
      }
      assert.ok(lines(`${segOut}.calls.jsonl`).length >= 1, 'segmentation calls went through the call cache');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
