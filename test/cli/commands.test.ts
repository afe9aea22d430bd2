// Every command through the real `main` entry with bad arguments: a non-integer, an out-of-range number, an
// unknown flag, a missing value, a missing required argument. Each must exit 2 before doing anything (no
// file written, nothing on stdout) with the flag's name in the message. A second sweep walks every declared
// numeric, choice, path and required flag of every command, so a flag added later is covered too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, type Command, type Flag } from '../../src/cli/args.js';
import { COMMANDS, loadCommand, main } from '../../src/cli/main.js';

const T = mkdtempSync(path.join(tmpdir(), 'psrlm-cli-args-'));
const FILE = path.join(T, 'in.jsonl'),
  CFG = path.join(T, 'run.yaml');
const DIR = path.join(T, 'model'),
  RUN = path.join(T, 'run');
writeFileSync(FILE, '{}\n');
writeFileSync(CFG, 'iterations: 1\n');
mkdirSync(DIR);
mkdirSync(RUN);
const OUT = path.join(T, 'out'),
  IFT = path.join(OUT, 'ift.jsonl'),
  ENGINE = `embedded:${DIR}`;
process.on('exit', () => rmSync(T, { recursive: true, force: true }));

interface Case {
  /** Valid arguments: every required flag and positional, outputs under OUT. */
  base: string[];
  nonInt?: [string, string];
  range?: [string, string];
  /** Arguments missing something required, and what the message must name. */
  required?: Array<[string[], RegExp]>;
}

const CASES: Record<string, Case> = {
  run: { base: [CFG, '--out', OUT], required: [[['--out', OUT], /missing <config\.yaml>/]] },
  'data build': { base: ['--out', OUT], nonInt: ['--seed', '1.5'], range: ['--scale', '0'] },
  'data segment': {
    base: ['--input', FILE, '--out', IFT, '--segmenter', 'gsm8k'],
    nonInt: ['--batch', 'abc'],
    range: ['--max-tokens', '0'],
    required: [
      [['--out', IFT, '--segmenter', 'gsm8k'], /--input and --out are required; missing --input/],
      [['--input', FILE, '--out', IFT], /--segmenter gsm8k or --engine/],
    ],
  },
  'data eft': {
    base: ['--input', FILE, '--engine', ENGINE, '--annotator', ENGINE, '--out', OUT],
    nonInt: ['--width', 'six'],
    range: ['--test-share', '1.5'],
    required: [[['--input', FILE, '--engine', ENGINE, '--out', OUT], /are required; missing --annotator/]],
  },
  tts: {
    base: ['--model', DIR],
    nonInt: ['--problems', 'ten'],
    range: ['--width', '1'],
    required: [[[], /--model is required/]],
  },
  report: {
    base: [RUN, '--out', path.join(OUT, 'report.html')],
    required: [[['--out', path.join(OUT, 'report.html')], /missing <run dir>/]],
  },
  explain: {
    base: [RUN, '5'],
    nonInt: ['--iteration', 'two'],
    range: ['--iteration', '0'],
    required: [[[RUN], /missing <question index>/]],
  },
  judge: {
    base: ['--model', DIR],
    nonInt: ['--eft', 'many'],
    range: ['--candidates', '1'],
    required: [
      [[], /give --model <checkpoint dir> or --engine <spec>, one of them/],
      [['--model', DIR, '--engine', ENGINE], /one of them/],
    ],
  },
  sft: {
    base: ['--model', DIR, '--data', FILE, '--out', OUT],
    nonInt: ['--batch-size', '3.5'],
    range: ['--warmup-frac', '1'],
    required: [[['--model', DIR, '--out', OUT], /--model, --data and --out are required; missing --data/]],
  },
  pretrain: { base: ['--out', OUT], nonInt: ['--seed', 'x'], range: ['--scale', '-1'] },
  demo: { base: ['--out', OUT, '--models', DIR], nonInt: ['--seed', 'one'], range: ['--seed', '-1'] },
  eval: {
    base: ['--engine', ENGINE, '--out', path.join(OUT, 'eval.jsonl')],
    nonInt: ['--limit', 'all'],
    range: ['--max-tokens', '0'],
    required: [[['--out', path.join(OUT, 'eval.jsonl')], /--engine is required/]],
  },
  grade: { base: [], nonInt: ['--workers', 'two'], range: ['--timeout-ms', '0'] },
  extract: { base: [] },
  serve: {
    base: ['--model', DIR],
    nonInt: ['--port', 'http'],
    range: ['--port', '65536'],
    required: [[[], /--model is required/]],
  },
  'world sample': { base: [], nonInt: ['--n', 'five'], range: ['--from', '-1'] },
};

/** Every runnable command (subcommands of a group by their full name) with its declarations. */
async function leaves(): Promise<Map<string, Command>> {
  const out = new Map<string, Command>();
  for (const name of COMMANDS) {
    const cmd = await loadCommand(name);
    const subs = cmd.spec.commands;
    if (!subs) {
      out.set(name, cmd);
      continue;
    }
    for (const [s, c] of Object.entries(subs)) {
      assert.equal(c.spec.name, `${name} ${s}`, 'a subcommand is declared under its full name');
      out.set(c.spec.name, c);
    }
  }
  return out;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

/** main(argv) with stdout and stderr captured. */
async function call(argv: string[]): Promise<{ rc: number; out: string; err: string }> {
  let out = '',
    err = '';
  const ow = process.stdout.write,
    ew = process.stderr.write;
  type Write = typeof process.stdout.write;
  process.stdout.write = ((s: string | Uint8Array) => {
    out += String(s);
    return true;
  }) as Write;
  process.stderr.write = ((s: string | Uint8Array) => {
    err += String(s);
    return true;
  }) as Write;
  let rc: number;
  try {
    rc = await main(argv);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  return { rc, out, err };
}

/** A usage error: exit 2, the message names `flag`, nothing on stdout, no file written. */
async function refused(name: string, args: string[], re: RegExp | string): Promise<void> {
  const before = files(T);
  const r = await call([...name.split(' '), ...args]);
  const what = `psrlm ${name} ${args.join(' ')}`;
  assert.equal(r.rc, 2, `${what}: exit 2 (stderr: ${r.err})`);
  assert.ok(r.err.startsWith(`psrlm ${name}: `), `${what}: the message names the command: ${r.err}`);
  if (typeof re === 'string') assert.ok(r.err.includes(re), `${what}: stderr names ${re}: ${r.err}`);
  else assert.match(r.err, re, what);
  assert.equal(r.out, '', `${what}: nothing on stdout`);
  assert.deepEqual(files(T), before, `${what}: nothing written`);
}

test('every command is covered by the table, and its valid arguments parse', async () => {
  const all = await leaves();
  assert.deepEqual([...all.keys()].sort(), Object.keys(CASES).sort());
  for (const [name, cmd] of all) {
    assert.ok(parse(cmd.spec, CASES[name]!.base), `${name}: the base arguments are valid`);
  }
});

test('bad values, unknown flags, missing values, missing required arguments: exit 2 naming the flag', async () => {
  const all = await leaves();
  for (const [name, c] of Object.entries(CASES)) {
    await refused(name, [...c.base, '--definitely-not-a-flag'], /unknown flag --definitely-not-a-flag/);
    if (c.nonInt) await refused(name, [...c.base, ...c.nonInt], `${c.nonInt[0]} must be `);
    if (c.range) {
      await refused(name, [...c.base, ...c.range], new RegExp(`${c.range[0]} must be .*, got '${c.range[1]}'`));
    }
    for (const [argv, re] of c.required ?? []) await refused(name, argv, re);
    // a value flag last on the line, without its value
    const valued = Object.entries(all.get(name)!.spec.flags).find(([, f]) => f.type !== 'boolean');
    assert.ok(valued, `${name} has a flag that takes a value`);
    await refused(name, [...c.base, `--${valued[0]}`], `--${valued[0]} needs a value`);
  }
  // a misspelt flag gets a suggestion
  const seg = CASES['data segment']!.base;
  await refused('data segment', [...seg, '--bach', '2'], /unknown flag --bach \(did you mean --batch\?\)/);
  await refused('sft', [...CASES.sft!.base, '--batchsize', '2'], /did you mean --batch-size\?/);
});

/** An out-of-range value for a numeric flag, if it has a bound. */
function outOfRange(f: Flag): string | undefined {
  if (f.type !== 'int' && f.type !== 'number') return undefined;
  const step = f.type === 'int' ? 1 : 0.5;
  if (f.min !== undefined) return String(f.min - step);
  if (f.max !== undefined) return String(f.max + step);
  if (f.type === 'number' && f.above !== undefined) return String(f.above);
  if (f.type === 'number' && f.below !== undefined) return String(f.below);
  return undefined;
}

/** argv without `--flag VALUE` (or a bare boolean --flag). */
function without(argv: string[], flag: string): string[] {
  const i = argv.indexOf(flag);
  return i < 0 ? argv : [...argv.slice(0, i), ...argv.slice(i + 2)];
}

test('every declared numeric, choice, path and required flag of every command is checked', async () => {
  const all = await leaves();
  let checked = 0;
  for (const [name, cmd] of all) {
    const base = CASES[name]!.base;
    for (const [k, f] of Object.entries(cmd.spec.flags)) {
      const flag = `--${k}`,
        b = without(base, flag);
      if (f.type === 'int' || f.type === 'number') {
        await refused(name, [...b, flag, 'abc'], `${flag} must be `);
        const v = outOfRange(f);
        if (v !== undefined) await refused(name, [...b, `${flag}=${v}`], `${flag} must be `);
        checked++;
      }
      if (f.type === 'choice' || (f.type === 'list' && f.choices)) {
        await refused(name, [...b, flag, 'no-such-choice'], `${flag} must be `);
        checked++;
      }
      if ((f.type === 'path' || f.type === 'list') && f.exists) {
        await refused(name, [...b, flag, path.join(T, 'missing')], `${flag} must be an existing`);
        checked++;
      }
      if (f.type !== 'boolean' && f.required) {
        await refused(name, b, flag);
        checked++;
      }
    }
    // a missing required positional is in the table's cases (the sweep cannot drop one blindly)
    if (cmd.spec.positionals?.some((p) => p.required)) {
      const tested = CASES[name]!.required?.some(([, re]) => re.source.startsWith('missing <'));
      assert.ok(tested, `${name}: a missing positional is tested`);
    }
  }
  assert.ok(checked > 60, `a sweep over many flags (${checked})`);
});

test('--help of every command is generated from its declarations and exits 0', async () => {
  const all = await leaves();
  for (const [name, cmd] of all) {
    const r = await call([...name.split(' '), '--help']);
    assert.equal(r.rc, 0);
    assert.ok(r.out.startsWith(`usage: psrlm ${name}`), r.out);
    for (const k of Object.keys(cmd.spec.flags)) {
      assert.match(r.out, new RegExp(`--${k}\\b`), `${name} --help lists --${k}`);
    }
    assert.equal(r.err, '');
  }
  const top = await call(['--help']);
  assert.equal(top.rc, 0);
  for (const name of COMMANDS) {
    const summary = (await loadCommand(name)).spec.summary;
    const row = top.out.split('\n').find((l) => l.trim().split(/\s+/)[0] === name);
    assert.equal(row?.trim().slice(name.length).trim(), summary, `psrlm --help lists ${name} with its summary`);
  }
  const viaHelp = await call(['help', 'tts']);
  assert.equal(viaHelp.rc, 0);
  assert.ok(viaHelp.out.startsWith('usage: psrlm tts'));
  const group = await call(['data', '--help']);
  assert.match(group.out, /usage: psrlm data <build\|segment\|eft>[\s\S]*\n  segment +IFT from real worked solutions/);
  const unknown = await call(['help', 'tss']);
  assert.equal(unknown.rc, 2);
  assert.match(unknown.err, /unknown command 'tss' \(did you mean 'tts'\?\)/);
  const bare = await call([]);
  assert.equal(bare.rc, 2);
  assert.match(bare.err, /usage: psrlm <command>/);
  const sub = await call(['data', 'segmnet']);
  assert.equal(sub.rc, 2);
  assert.match(sub.err, /psrlm data: unknown subcommand 'segmnet' \(did you mean 'segment'\?\)/);
});
