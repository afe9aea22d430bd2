// The flag parser every command uses (src/cli/args.ts): typed values, ranges, defaults, required flags,
// positionals, unknown flags with a suggestion, missing values, and the help generated from the declarations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { command, expectation, group, helpText, parse, suggest, UsageError } from '../../src/cli/args.js';

const SPEC = {
  name: 'thing',
  summary: 'a command to test the parser with',
  description: 'Does a thing.',
  positionals: [
    { name: 'input', type: 'path', required: true, help: 'what to read' },
    { name: 'count', type: 'int', min: 0, help: 'how many' },
  ],
  flags: {
    batch: { type: 'int', min: 1, default: 16, help: 'items per batch' },
    seed: { type: 'int', help: 'any integer' },
    threads: { type: 'int', min: 1, max: 2, default: 2, help: 'threads' },
    port: { type: 'int', min: 0, max: 65535, help: 'port' },
    lr: { type: 'number', above: 0, default: 1e-6, help: 'learning rate' },
    frac: { type: 'number', min: 0, below: 1, help: 'a share' },
    split: { type: 'choice', choices: ['test', 'harder'], default: 'test', help: 'which split' },
    mode: { type: 'choice', choices: ['a', 'b', 'c'], help: 'a mode' },
    bench: { type: 'list', separator: ',', choices: ['x', 'y', 'z'], default: ['x', 'y'], help: 'benchmarks' },
    data: { type: 'list', help: 'data files' },
    model: { type: 'string', required: true, metavar: 'SPEC', help: 'the model' },
    verifier: {
      type: 'string',
      default: 'rollouts',
      expected: "'rollouts' or 'prm=<spec>'",
      check: (v: string) => /^(rollouts|prm=.+)$/.test(v),
      help: 'verifier',
    },
    out: { type: 'path', metavar: 'DIR', defaultHelp: 'runs/<name>', help: 'output' },
    json: { type: 'boolean', help: 'JSON output' },
    'max-tokens': { type: 'int', min: 1, help: 'tokens' },
  },
} as const;

function ok(argv: string[]) {
  const r = parse(SPEC, argv);
  assert.ok(r, 'parsed, not help');
  return r;
}

function usage(argv: string[], re: RegExp) {
  assert.throws(
    () => parse(SPEC, argv),
    (e: unknown) => {
      assert.ok(e instanceof UsageError, `a UsageError, got ${String(e)}`);
      assert.match(e.message, re);
      return true;
    },
  );
}

test('typed values, defaults and positionals', () => {
  const r = ok([
    'in.jsonl',
    '--model',
    'm',
    '--batch',
    '4',
    '--lr=3e-3',
    '--seed',
    '-7',
    '--json',
    '--data',
    'a',
    '--data',
    'b,c',
  ]);
  // the declared types flow into the values: these assignments are checked by the compiler
  const batch: number = r.values.batch,
    split: 'test' | 'harder' = r.values.split;
  const seed: number | undefined = r.values.seed;
  const json: boolean = r.values.json,
    bench: string[] = r.values.bench,
    input: string = r.positionals[0];
  const count: number | undefined = r.positionals[1];
  assert.deepEqual(
    [batch, split, seed, json, bench, input, count],
    [4, 'test', -7, true, ['x', 'y'], 'in.jsonl', undefined],
  );
  assert.equal(r.values.lr, 3e-3);
  assert.deepEqual(r.values.data, ['a', 'b,c'], 'a list without a separator keeps commas');
  assert.equal(r.values.threads, 2);
  assert.equal(r.values.mode, undefined);
  assert.equal(r.values.out, undefined);
  assert.equal(r.values.verifier, 'rollouts');
  const r2 = ok(['--model', 'm', '--bench', 'z, x', '--bench', 'y', 'in', '3', '--split', 'harder', '--frac', '0']);
  assert.deepEqual(r2.values.bench, ['z', 'x', 'y']);
  assert.equal(r2.positionals[1], 3);
  assert.equal(r2.values.split, 'harder');
  assert.equal(r2.values.frac, 0);
  // after --, everything is a positional
  assert.deepEqual(ok(['--model', 'm', '--', '-input-']).positionals, ['-input-', undefined]);
  // the last of a repeated single-valued flag wins, as with most tools; every occurrence is checked
  assert.equal(ok(['in', '--model', 'm', '--batch', '2', '--batch', '3']).values.batch, 3);
  usage(['in', '--model', 'm', '--batch', 'x', '--batch', '3'], /--batch must be a positive integer, got 'x'/);
});

test('integers and numbers: what is refused, and the message names the flag and what it expected', () => {
  const base = ['in', '--model', 'm'];
  usage([...base, '--batch', 'abc'], /^--batch must be a positive integer, got 'abc'$/);
  usage([...base, '--batch', '0'], /--batch must be a positive integer, got '0'/);
  usage([...base, '--batch', '2.5'], /--batch must be a positive integer, got '2.5'/);
  usage([...base, '--batch', '0x10'], /--batch must be a positive integer, got '0x10'/);
  usage([...base, '--batch', ''], /--batch must be a positive integer, got ''/);
  usage([...base, '--batch', ' '], /--batch must be a positive integer/);
  usage([...base, '--seed', 'Infinity'], /--seed must be an integer, got 'Infinity'/);
  usage([...base, '--seed', '1e400'], /--seed must be an integer/);
  usage([...base, '--seed', '9007199254740993'], /--seed must be an integer/);
  usage([...base, '--threads', '3'], /--threads must be 1 or 2, got '3'/);
  usage([...base, '--port', '65536'], /--port must be an integer from 0 to 65535, got '65536'/);
  usage([...base, '--port', '-1'], /--port must be an integer from 0 to 65535, got '-1'/);
  usage([...base, '--lr', '0'], /--lr must be a positive number, got '0'/);
  usage([...base, '--lr', 'NaN'], /--lr must be a positive number, got 'NaN'/);
  usage([...base, '--frac', '1'], /--frac must be a number in \[0, 1\), got '1'/);
  usage([...base, '--frac', '-0.1'], /--frac must be a number in \[0, 1\)/);
  usage(['in', '-3', '--model', 'm'], /unknown flag -3/);
  usage(['in', 'x', '--model', 'm'], /<count> must be a non-negative integer, got 'x'/);
  assert.equal(ok([...base, '--batch', '1e3']).values.batch, 1000);
  assert.equal(ok([...base, '--seed=-1']).values.seed, -1);
  assert.equal(ok([...base, '--frac', '.5']).values.frac, 0.5);
});

test('choices, lists, strings with a rule, paths', () => {
  const base = ['in', '--model', 'm'];
  usage([...base, '--split', 'train'], /^--split must be test or harder, got 'train'$/);
  usage([...base, '--mode', 'd'], /--mode must be one of a, b, c, got 'd'/);
  usage(
    [...base, '--bench', 'x,w'],
    /--bench must be a ','-separated list of items from x, y, z, got 'x,w' \('w' is not one\)/,
  );
  usage([...base, '--bench', ','], /--bench must be a ','-separated list/);
  usage([...base, '--verifier', 'prm='], /--verifier must be 'rollouts' or 'prm=<spec>', got 'prm='/);
  usage([...base, '--model', ''], /--model must not be empty/);
  usage([...base, '--out', ''], /--out must be a path, got ''/);
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-args-'));
  try {
    const file = path.join(dir, 'a.json');
    writeFileSync(file, '{}');
    const spec = {
      name: 'p',
      summary: 's',
      flags: {
        config: { type: 'path', exists: 'file', help: 'c' },
        model: { type: 'path', exists: 'dir', help: 'm' },
        data: { type: 'list', exists: 'file', help: 'd' },
      },
    } as const;
    assert.deepEqual(parse(spec, ['--config', file, '--model', dir, '--data', file])?.values, {
      config: file,
      model: dir,
      data: [file],
    });
    assert.throws(
      () => parse(spec, ['--config', path.join(dir, 'no.json')]),
      /--config must be an existing file, got '.*no\.json' \(no such file or directory\)/,
    );
    assert.throws(() => parse(spec, ['--config', dir]), /--config must be an existing file, got '.*' \(a directory\)/);
    assert.throws(
      () => parse(spec, ['--model', file]),
      /--model must be an existing directory, got '.*a\.json' \(not a directory\)/,
    );
    assert.throws(
      () => parse(spec, ['--data', file, '--data', path.join(dir, 'b')]),
      /--data must be an existing file, got '.*b' \(no such file/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown flags are refused with a suggestion; missing values and booleans given values are refused', () => {
  const base = ['in', '--model', 'm'];
  usage([...base, '--bach', '3'], /^unknown flag --bach \(did you mean --batch\?\)$/);
  usage([...base, '--max-token', '3'], /unknown flag --max-token \(did you mean --max-tokens\?\)/);
  usage([...base, '--thread', '3'], /did you mean --threads\?/);
  usage([...base, '--frobnicate'], /^unknown flag --frobnicate$/);
  usage([...base, '--constructor', 'x'], /^unknown flag --constructor$/);
  usage([...base, '-b', '3'], /^unknown flag -b/);
  usage([...base, '--no-json'], /unknown flag --no-json/);
  usage([...base, '--batch'], /^--batch needs a value: a positive integer$/);
  usage(
    ['in', '--batch', '--model', 'm'],
    /^--batch needs a value \(a positive integer\) but is followed by '--model'$/,
  );
  usage(
    ['in', '--out', '--json', '--model', 'm'],
    /--out needs a value \(a path\) but is followed by '--json'; write --out=--json if that is the value/,
  );
  usage([...base, '--json=yes'], /^--json takes no value, got 'yes'$/);
  assert.equal(ok(['in', '--model', 'm', '--out=--odd']).values.out, '--odd');
  assert.equal(suggest('segmnet', ['build', 'segment', 'eft']), 'segment');
  assert.equal(suggest('zzzzzz', ['build', 'segment', 'eft']), undefined);
  assert.equal(suggest('seg', ['build', 'segment', 'eft']), 'segment');
});

test('required flags and positionals, extra positionals', () => {
  usage(['in'], /^--model is required: the model$/);
  usage(['--model', 'm'], /^missing <input>: what to read$/);
  usage(['in', '3', 'more', '--model', 'm'], /^unexpected argument 'more' \(takes <input> <count>\)$/);
  const two = {
    name: 't',
    summary: 's',
    flags: {
      a: { type: 'string', required: true, help: 'a' },
      b: { type: 'list', required: true, help: 'b' },
      c: { type: 'int', help: 'c' },
    },
  } as const;
  assert.throws(() => parse(two, ['--a', 'x']), /^UsageError: --a and --b are required; missing --b$/);
  assert.throws(() => parse(two, []), /--a and --b are required; missing --a and --b/);
  assert.throws(() => parse({ name: 'n', summary: 's', flags: {} }, ['x']), /^UsageError: unexpected argument 'x'$/);
});

test('--help wins over every other mistake on the line', () => {
  assert.equal(parse(SPEC, ['--help']), undefined);
  assert.equal(parse(SPEC, ['-h']), undefined);
  assert.equal(parse(SPEC, ['--batch', 'abc', '--bogus', '--help']), undefined);
  assert.equal(parse(SPEC, ['--model', '--help']), undefined, 'even when a flag took it as its value');
});

test('help text is generated from the declarations', () => {
  const h = helpText(SPEC);
  const lines = h.split('\n');
  assert.match(lines[0]!, /^usage: psrlm thing <input> \[<count>\] \[--batch N\] \[--seed N\]/);
  assert.match(h, /--model SPEC/, 'a required flag is shown without brackets');
  assert.doesNotMatch(h, /\[--model SPEC\]/);
  assert.match(h, /\n\nDoes a thing\.\n\n/);
  assert.match(h, /\n  --batch N +items per batch \(default 16\)\n/);
  assert.match(h, /\n  --split test\|harder +which split \(default test\)\n/);
  assert.match(h, /\n  --bench LIST +benchmarks \(default x,y\)\n/);
  assert.match(h, /\n  --data LIST +data files \(repeatable\)\n/);
  assert.match(h, /\n  --model SPEC +the model \(required\)\n/);
  assert.match(h, /\n  --out DIR +output \(default: runs\/<name>\)\n/);
  assert.match(h, /\n  --json +JSON output\n/);
  assert.match(h, /\n  <input> +what to read\n/);
  assert.match(h, /\n  <count> +how many \(optional\)\n/);
  assert.match(h, /\n  -h, --help +show this help$/);
  for (const k of Object.keys(SPEC.flags)) assert.match(h, new RegExp(`--${k}\\b`), `--${k} is in the help`);
  for (const l of lines) assert.ok(l.length <= 110, `help lines fit 110 columns: ${l}`);
  assert.equal(expectation({ type: 'int', min: 5, help: '' }), 'an integer >= 5');
  assert.equal(expectation({ type: 'number', min: 0, max: 1, help: '' }), 'a number in [0, 1]');
  assert.equal(expectation({ type: 'number', above: 1, help: '' }), 'a number > 1');
  assert.equal(expectation({ type: 'choice', choices: ['gsm8k'], help: '' }), "'gsm8k'");
});

test('command(): help on stdout, exit 0; usage errors carry the command name and the body never runs', async () => {
  let ran = 0;
  const cmd = command(SPEC, async ({ values }) => {
    ran += values.batch;
    return 0;
  });
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => {
    out.push(a.join(' '));
  };
  try {
    assert.equal(await cmd(['--help']), 0);
  } finally {
    console.log = log;
  }
  assert.equal(out.join('\n'), helpText(SPEC));
  await assert.rejects(
    cmd(['in', '--model', 'm', '--batch', 'no']),
    (e: unknown) => e instanceof UsageError && e.command === 'thing',
  );
  assert.equal(ran, 0);
  assert.equal(await cmd(['in', '--model', 'm', '--batch', '5']), 0);
  assert.equal(ran, 5);
  assert.equal(cmd.spec.name, 'thing');
});

test('group(): subcommands, with a suggestion for a misspelt one', async () => {
  const sub = command(
    { name: 'g one', summary: 'the first', flags: { n: { type: 'int', min: 0, help: 'n' } } },
    async ({ values }) => values.n ?? 0,
  );
  const g = group({ name: 'g', summary: 'a group', commands: { one: sub } });
  assert.equal(await g(['one', '--n', '3']), 3);
  await assert.rejects(
    g(['onr']),
    (e: unknown) =>
      e instanceof UsageError &&
      e.command === 'g' &&
      /unknown subcommand 'onr' \(did you mean 'one'\?\); use 'one'/.test(e.message),
  );
  await assert.rejects(g([]), /a subcommand is required/);
  await assert.rejects(g(['one', '--n', '-1']), (e: unknown) => e instanceof UsageError && e.command === 'g one');
  assert.match(g.help(), /usage: psrlm g <one> \[options\][\s\S]*\n  one  the first\n/);
});
