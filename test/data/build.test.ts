// `data build` on a small config: files, schemas, manifest counts, determinism, disjoint problem pools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildData, dataConfig } from '../../src/data/build.js';
import {
  readJsonl,
  validateBase,
  validateEft,
  validateIft,
  validateSingle,
  type BaseRecord,
  type EftRecord,
  type IftRecord,
  type Manifest,
  type SingleRecord,
} from '../../src/data/schema.js';
import { main } from '../../src/cli/main.js';

const small = () =>
  dataConfig({
    base: { problems: 300, practice: 100 },
    ift: { problems: 300 },
    eft: { trainPairs: 200, testPairs: 50, harderPairs: 20, singles: 150 },
  });

test('build writes every file with valid records and a manifest that counts them', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-data-'));
  try {
    const m = buildData(small(), dir);
    const base = readJsonl<BaseRecord>(path.join(dir, 'base.jsonl')).map(validateBase);
    const ift = readJsonl<IftRecord>(path.join(dir, 'ift.jsonl')).map(validateIft);
    const tr = readJsonl<EftRecord>(path.join(dir, 'eft-train.jsonl')).map(validateEft);
    const te = readJsonl<EftRecord>(path.join(dir, 'eft-test.jsonl')).map(validateEft);
    const ha = readJsonl<EftRecord>(path.join(dir, 'eft-harder.jsonl')).map(validateEft);
    const si = readJsonl<SingleRecord>(path.join(dir, 'eft-single.jsonl')).map(validateSingle);
    assert.deepEqual(
      [base.length, ift.length, tr.length, te.length, ha.length, si.length],
      [400, 300, 400, 100, 40, 150],
    );
    assert.equal(m.counts.eft_single, 150);
    assert.equal(m.counts.eft_single_wrong, si.filter((r) => !r.ok).length);
    const disk = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(disk, JSON.parse(JSON.stringify(m)));
    assert.equal(m.counts.ift, 300);
    assert.equal(m.counts.eft_test, 100);
    assert.equal(m.files['eft-train.jsonl'].records, 400);
    assert.deepEqual(m.eft['eft-train'].labels, { A: 200, B: 200 });
    assert.equal(
      Object.values(m.steps.ift).reduce((s, x) => s + x, 0),
      300,
    );
    // Problem pools never overlap: base, IFT and EFT train use different problems; tests use other splits.
    const trainTexts = new Set([
      ...ift.map((r) => r.problem),
      ...base.filter((b) => b.type === 'solution').map((b) => b.text.split('\n')[0]),
    ]);
    assert.equal(trainTexts.size, 600);
    for (const r of tr) assert.ok(!trainTexts.has(r.problem) && r.split === 'train');
    // single checks take the EFT pool's problems after the pairs' ones
    const [pairFrom, pairTo] = m.pools.eft,
      [singleFrom, singleTo] = m.pools['eft singles'];
    assert.equal(singleFrom, pairTo);
    assert.ok(
      tr.every((r) => r.index >= pairFrom && r.index < pairTo) &&
        si.every((r) => r.index >= singleFrom && r.index < singleTo && r.split === 'train'),
    );
    for (const r of [...te, ...ha]) assert.ok(!trainTexts.has(r.problem) && r.split !== 'train');
    assert.ok(ha.every((r) => r.split === 'harder') && te.every((r) => r.split === 'test'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a rebuild is byte-identical; another seed differs', () => {
  const a = mkdtempSync(path.join(tmpdir(), 'psrlm-a-'));
  const b = mkdtempSync(path.join(tmpdir(), 'psrlm-b-'));
  try {
    const ma = buildData(small(), a),
      mb = buildData(small(), b);
    for (const f of Object.keys(ma.files)) assert.equal(ma.files[f].sha256, mb.files[f].sha256, f);
    const mc = buildData(dataConfig({ ...small(), seed: 99, world: undefined }), b);
    assert.notEqual(mc.files['ift.jsonl'].sha256, ma.files['ift.jsonl'].sha256);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('the paper template builds (no character budget by default); a budget nothing fits fails clearly', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-paper-'));
  try {
    const m = buildData(
      dataConfig({
        template: 'paper',
        base: { problems: 5, practice: 5 },
        ift: { problems: 5 },
        eft: { trainPairs: 5, testPairs: 5, harderPairs: 5 },
      }),
      dir,
    );
    const r = readJsonl<EftRecord>(path.join(dir, 'eft-test.jsonl')).map(validateEft)[0];
    assert.ok(r.prompt.startsWith('Please act as an impartial judge'));
    assert.match(r.completion, /^Assistant A's step: .*\.\nAssistant B's step: .*\.\n\[\[[AB]\]\]$/);
    assert.equal(m.template, 'paper');
    assert.equal(m.counts.eft_single, 0); // the paper's templates have no single-check prompt
    assert.throws(
      () =>
        buildData(
          dataConfig({
            template: 'paper',
            base: { problems: 1, practice: 1 },
            ift: { problems: 1 },
            eft: { trainPairs: 1, singles: 3 },
          }),
          dir,
        ),
      /template 'paper' has no check_prompt\/check_target/,
    );
    assert.throws(
      () =>
        buildData(
          dataConfig({
            template: 'paper',
            budget: { eft: 384 },
            base: { problems: 1, practice: 1 },
            ift: { problems: 1 },
            eft: { trainPairs: 1 },
          }),
          dir,
        ),
      /no train EFT pair fits budget.eft = 384 characters/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config errors are clear', () => {
  assert.throws(() => dataConfig({ ift: { problems: 200_000 } }), /pools overlap/);
  assert.throws(
    () => dataConfig({ eft: { explain: 'colums' as never } }),
    /eft.explain must be one of nines, drill, digits, columns, reason, got "colums"/,
  );
  assert.throws(() => dataConfig({ eft: { singles: -1 } }), /eft.singles must be a non-negative integer, got -1/);
  assert.throws(
    () => buildData(dataConfig({ template: 'nope', base: { problems: 1, practice: 1 } }), path.join(tmpdir(), 'x')),
    /unknown prompt template 'nope'/,
  );
});

test('CLI: psrlm data build --scale and psrlm world sample', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-cli-'));
  const logs: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => {
    logs.push(a.join(' '));
  };
  try {
    assert.equal(await main(['data', 'build', '--out', dir, '--scale', '0.01', '--seed', '5']), 0);
    const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    assert.equal(m.seed, 5);
    assert.equal(m.counts.ift, 200);
    logs.length = 0;
    assert.equal(await main(['world', 'sample', '--n', '2', '--split', 'test']), 0);
    const out = logs.join('\n');
    assert.match(out, /# test-0 \(\d steps\)\n.* How many now\?\nStep 1: /);
    assert.match(out, /# test-1 /);
    assert.equal((out.match(/\\boxed\{\d+\}/g) ?? []).length, 2);
  } finally {
    console.log = orig;
    rmSync(dir, { recursive: true, force: true });
  }
  const errs: string[] = [];
  const oe = console.error;
  console.error = (...a: unknown[]) => {
    errs.push(a.join(' '));
  };
  try {
    assert.equal(await main(['world', 'sample', '--split', 'dev']), 2);
    assert.equal(await main(['data', 'frobnicate']), 2);
  } finally {
    console.error = oe;
  }
  assert.match(errs.join('\n'), /--split must be one of train, test, harder/);
  assert.match(errs.join('\n'), /unknown subcommand 'frobnicate'/);
});
