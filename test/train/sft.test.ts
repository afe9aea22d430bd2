// `psrlm sft` on the embedded engine (src/train/sft.ts): the oracle is the engine's own trainSFT on the
// same examples and options — the command must give the same weights bit for bit — plus the rules around
// it: EOS only where a record asks for it, the manifest (job key, data digests), reuse of a finished
// checkpoint, refusal to overwrite another one, and clear errors on bad records. The TRL path runs in
// test/real/vllm_trl.test.ts (M1 of the tiny Qwen2 is trained by `psrlm sft --config run.yaml`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { readSafetensors } from '../../src/engine/safetensors.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { TrainerSchema } from '../../src/train/config.js';
import { readSftRecords, sftCheckpoint, type SftSettings } from '../../src/train/sft.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const SETTINGS: SftSettings = {
  epochs: 2,
  lr: 3e-3,
  batch_size: 4,
  warmup_frac: 0.1,
  min_lr_frac: 0.1,
  weight_decay: 0,
  seed: 5,
};
const IFT = Array.from({ length: 10 }, (_, i) => ({
  prompt: `Q ${i}+${i}?\n`,
  completion: `Step 1: ${i}+${i}=${2 * i}\nStep 2: \\boxed{${2 * i}}\n`,
  eos: true,
}));
const EFT = Array.from({ length: 6 }, (_, i) => ({
  prompt: `J ${i}\nA: x\nB: y\n`,
  completion: `A: ok\nB: no\n[[A]]`,
  eos: true,
}));
// a non-final step: trained without an end-of-sequence token
const STEP = [{ prompt: 'Q 9+1?\n', completion: 'Step 1: 9+1=10\n', eos: false }];

const weights = (dir: string) =>
  [...readSafetensors(path.join(dir, 'model.safetensors')).tensors.values()].map((t) =>
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  );

test(
  'psrlm sft (embedded) gives the weights of the engine trainSFT, with a manifest, reuse and clear errors',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-sft-'));
    const m0 = path.join(dir, 'm0'),
      files = [path.join(dir, 'ift.jsonl'), path.join(dir, 'eft.jsonl')];
    const e0 = EmbeddedEngine.create({ n_layer: 1, n_embd: 32, n_head: 2, n_ctx: 64 }, Tokenizer.ascii(), 11);
    await e0.save(m0);
    await e0.close();
    writeFileSync(files[0]!, [...IFT, ...STEP].map((r) => JSON.stringify({ id: 'x', ...r }) + '\n').join(''));
    writeFileSync(files[1]!, EFT.map((r) => JSON.stringify(r)).join('\n') + '\n');

    // oracle: the engine's own SFT on the same examples in the same order
    const ref = EmbeddedEngine.load(m0);
    await ref.trainSFT([...IFT, ...STEP, ...EFT], { ...SETTINGS });
    const refDir = path.join(dir, 'ref');
    await ref.save(refDir);
    await ref.close();

    const out = path.join(dir, 'm1');
    const trainer = TrainerSchema.parse({});
    const lines: string[] = [];
    const r = await sftCheckpoint(
      { model: m0, data: files, out, trainer, settings: SETTINGS, snapshot_every: 2 },
      (s) => lines.push(s),
    );
    assert.equal(r.reused, false);
    assert.ok(r.final_loss < r.history[0]!.loss, `loss fell (${r.history[0]!.loss} -> ${r.final_loss})`);
    assert.match(lines.join('\n'), /17 records \(ift\.jsonl: 11, eft\.jsonl: 6; 1 without EOS\)/);
    assert.deepEqual(weights(out), weights(refDir), 'same weights as the engine trainSFT');
    const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
      kind: string;
      sft: { key: string; data: Array<{ records: number; sha256: string }>; settings: SftSettings };
    };
    assert.equal(m.kind, 'psrlm-sft');
    assert.deepEqual(
      m.sft.data.map((d) => d.records),
      [11, 6],
    );
    assert.deepEqual(m.sft.settings, SETTINGS);
    assert.equal(m.sft.key, r.key);

    // the same job again: reused, nothing trained
    const again = await sftCheckpoint({ model: m0, data: files, out, trainer, settings: SETTINGS, snapshot_every: 2 });
    assert.equal(again.reused, true);
    assert.equal(again.final_loss, r.final_loss);
    // another job into the same directory is refused rather than overwriting
    await assert.rejects(
      sftCheckpoint({ model: m0, data: files, out, trainer, settings: { ...SETTINGS, lr: 1e-3 }, snapshot_every: 0 }),
      /already holds a different checkpoint/,
    );

    // the CLI: same job, reused; bad input stops with the file, the line and what is wrong
    const cli = spawnSync(
      process.execPath,
      [
        CLI,
        'sft',
        '--model',
        m0,
        '--data',
        files[0]!,
        '--data',
        files[1]!,
        '--out',
        out,
        '--epochs',
        '2',
        '--lr',
        '3e-3',
        '--batch-size',
        '4',
        '--warmup-frac',
        '0.1',
        '--min-lr-frac',
        '0.1',
        '--seed',
        '5',
        '--snapshot-every',
        '2',
        '--quiet',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, /reusing it/);
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, JSON.stringify(IFT[0]) + '\n' + JSON.stringify({ prompt: 'p', completion: '' }) + '\n');
    assert.throws(() => readSftRecords([bad]), /bad\.jsonl:2: "completion" is missing, empty or not a string/);
    writeFileSync(bad, '{"prompt": "p", "completion": "c", "eos": "yes"}\n');
    assert.throws(() => readSftRecords([bad]), /bad\.jsonl:1: "eos" is not a boolean/);
    assert.throws(() => readSftRecords([path.join(dir, 'nope.jsonl')]), /no such file/);
    const usage = spawnSync(process.execPath, [CLI, 'sft', '--model', m0, '--out', out], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--model, --data and --out are required/);
    const wrong = spawnSync(
      process.execPath,
      [CLI, 'sft', '--model', m0, '--data', files[0]!, '--out', path.join(dir, 'x'), '--trainer', 'deepspeed'],
      { encoding: 'utf8' },
    );
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /--trainer: /);
  },
);
