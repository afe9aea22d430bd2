// One flag parser for every `psrlm` command: a command declares its flags (string, int, number, boolean,
// choice, list, path) with ranges, defaults and help, and gets back typed values, a generated --help, and
// one error type for every usage mistake (main.ts prints it and exits 2; runtime failures keep exit 1).
// Nothing of a command runs until all of its arguments are valid, so a typo loses nothing.
//
// Tokenizing is node:util's parseArgs (built in, no dependency): it splits `--a=b`, `-h`, `--` and
// positionals the way Node's own tools do. It runs in non-strict mode with `tokens: true`, because its
// strict mode only knows strings and booleans, refuses `--seed -1`, and words its errors for a library,
// not for a person at a shell; the typing, ranges, required flags, suggestions and help are done here.
import { statSync } from 'node:fs';
import { parseArgs as tokenize } from 'node:util';

/** A mistake in how a command was called; main.ts prints `psrlm <command>: <message>` and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    public command?: string,
  ) {
    super(message);
  }
}

interface FlagBase {
  /** One line for --help. */
  help: string;
  /** The value's placeholder in --help (default by type: N, X, VALUE, PATH, a|b, LIST). */
  metavar?: string;
  required?: boolean;
  /** What --help says the default is when it is not a fixed value (e.g. "the directory's name"). */
  defaultHelp?: string;
}
export interface StringFlag extends FlagBase {
  type: 'string';
  default?: string;
  /** An extra rule the value must meet, described by `expected` in the error message. */
  check?: (v: string) => boolean;
  expected?: string;
}
/** A filesystem path; `exists` makes a missing file or directory a usage error before anything runs. */
export interface PathFlag extends FlagBase {
  type: 'path';
  default?: string;
  exists?: 'file' | 'dir';
}
export interface IntFlag extends FlagBase {
  type: 'int';
  default?: number;
  min?: number;
  max?: number;
}
/** min/max are inclusive bounds, above/below exclusive ones (a learning rate is above 0). */
export interface NumberFlag extends FlagBase {
  type: 'number';
  default?: number;
  min?: number;
  max?: number;
  above?: number;
  below?: number;
}
export interface BooleanFlag {
  type: 'boolean';
  help: string;
}
export interface ChoiceFlag extends FlagBase {
  type: 'choice';
  /** The allowed values; a function is called only when a value is checked or help is printed. */
  choices: Choices;
  default?: string;
}
/**
 * Every occurrence of the flag, each split at `separator` when one is given; [] when absent. Items are
 * checked against `choices`, or with `exists` are paths that must exist.
 */
export interface ListFlag extends FlagBase {
  type: 'list';
  separator?: string;
  choices?: Choices;
  exists?: 'file' | 'dir';
  default?: readonly string[];
}
export type Flag = StringFlag | PathFlag | IntFlag | NumberFlag | BooleanFlag | ChoiceFlag | ListFlag;
export type Flags = Record<string, Flag>;

export interface Positional {
  /** Shown as <name> in usage and named in errors. */
  name: string;
  help: string;
  type?: 'string' | 'path' | 'int';
  required?: boolean;
  exists?: 'file' | 'dir';
  min?: number;
}

type Value<F> = F extends { type: 'boolean' }
  ? boolean
  : F extends { type: 'int' | 'number' }
    ? number
    : F extends { type: 'list' }
      ? string[]
      : F extends { type: 'choice'; choices: readonly (infer C extends string)[] }
        ? C
        : string;
type Always<F> = F extends { type: 'boolean' | 'list' }
  ? true
  : F extends { required: true }
    ? true
    : F extends { default: unknown }
      ? true
      : false;
export type Values<Fs extends Flags> = {
  -readonly [K in keyof Fs]: Always<Fs[K]> extends true ? Value<Fs[K]> : Value<Fs[K]> | undefined;
};
export type PositionalValues<P extends readonly Positional[]> = {
  -readonly [I in keyof P]:
    (P[I] extends { type: 'int' } ? number : string) | (P[I] extends { required: true } ? never : undefined);
};
export interface Parsed<Fs extends Flags, P extends readonly Positional[]> {
  values: Values<Fs>;
  positionals: PositionalValues<P>;
}

export interface CommandSpec<Fs extends Flags, P extends readonly Positional[]> {
  /** The command as typed after `psrlm`, e.g. 'data segment'. */
  name: string;
  /** One line, for the command list of a group's help. */
  summary: string;
  /** Paragraphs printed after the usage line. */
  description?: string;
  flags: Fs;
  positionals?: P;
}

/** A runnable command: what main.ts calls, with its help for `psrlm <command> --help`. */
export interface Command {
  (argv: string[]): Promise<number>;
  /** The declarations (a group has no flags of its own but its subcommands). */
  readonly spec: CommandSpec<Flags, readonly Positional[]> & { commands?: Record<string, Command> };
  help(): string;
}

const WIDTH = 110;

type Choices = readonly string[] | (() => readonly string[]);
const choicesOf = (c: Choices): readonly string[] => (typeof c === 'function' ? c() : c);
const existing = (e: 'file' | 'dir') => `an existing ${e === 'dir' ? 'directory' : 'file'}`;

/** "a or b", "one of a, b, c" */
function oneOf(cs: readonly string[]): string {
  return cs.length === 1 ? `'${cs[0]}'` : cs.length === 2 ? `${cs[0]} or ${cs[1]}` : `one of ${cs.join(', ')}`;
}

/** "and"-joined list: "--a, --b and --c" */
function andList(xs: string[]): string {
  return xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** What a flag's value must be, in the words of an error message ("a positive integer", "test or harder"). */
export function expectation(f: Flag | Positional): string {
  const t = f.type ?? 'string';
  if (t === 'int') {
    const { min, max } = f as IntFlag;
    if (min !== undefined && max !== undefined) {
      return max === min + 1 ? `${min} or ${max}` : `an integer from ${min} to ${max}`;
    }
    if (min === 1) return 'a positive integer';
    if (min === 0) return 'a non-negative integer';
    if (min !== undefined) return `an integer >= ${min}`;
    return max !== undefined ? `an integer <= ${max}` : 'an integer';
  }
  if (t === 'number') {
    const { min, max, above, below } = f as NumberFlag;
    const lo = above !== undefined ? `(${above}` : min !== undefined ? `[${min}` : undefined;
    const hi = below !== undefined ? `${below})` : max !== undefined ? `${max}]` : undefined;
    if (lo && hi) return `a number in ${lo}, ${hi}`;
    if (above === 0 && !hi) return 'a positive number';
    if (min === 0 && !hi) return 'a non-negative number';
    if (lo) return `a number ${above !== undefined ? '>' : '>='} ${lo.slice(1)}`;
    if (hi) return `a number ${below !== undefined ? '<' : '<='} ${hi.slice(0, -1)}`;
    return 'a number';
  }
  if (t === 'choice') return oneOf(choicesOf((f as ChoiceFlag).choices));
  if (t === 'list') {
    const l = f as ListFlag;
    const items = l.choices ? `items from ${choicesOf(l.choices).join(', ')}` : 'items';
    if (l.separator) return `a '${l.separator}'-separated list of ${items}`;
    return l.choices ? oneOf(choicesOf(l.choices)) : l.exists ? existing(l.exists) : 'a value';
  }
  if (t === 'path') {
    const e = (f as PathFlag).exists;
    return e ? existing(e) : 'a path';
  }
  if (t === 'boolean') return 'no value';
  return (f as StringFlag).expected ?? 'a value';
}

// A decimal number as a person types it: no hex, no "Infinity", no blanks (Number() would take all three).
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function bad(label: string, f: Flag | Positional, raw: string, why = ''): UsageError {
  return new UsageError(`${label} must be ${expectation(f)}, got '${raw}'${why}`);
}

function checkNumber(label: string, f: IntFlag | NumberFlag | Positional, raw: string): number {
  const x = NUMERIC.test(raw.trim()) ? Number(raw) : NaN;
  const isInt = (f.type ?? 'string') === 'int';
  if (!Number.isFinite(x) || (isInt && !Number.isSafeInteger(x))) throw bad(label, f, raw);
  const { min, max, above, below } = f as NumberFlag;
  if ((min !== undefined && x < min) || (max !== undefined && x > max)) throw bad(label, f, raw);
  if ((above !== undefined && x <= above) || (below !== undefined && x >= below)) throw bad(label, f, raw);
  return x;
}

function checkPath(label: string, f: { exists?: 'file' | 'dir' }, raw: string): string {
  if (raw === '') throw new UsageError(`${label} must be a path, got ''`);
  if (f.exists) {
    const want = `${label} must be ${existing(f.exists)}, got '${raw}'`;
    let st;
    try {
      st = statSync(raw);
    } catch {
      throw new UsageError(`${want} (no such file or directory)`);
    }
    if (f.exists === 'dir' && !st.isDirectory()) throw new UsageError(`${want} (not a directory)`);
    if (f.exists === 'file' && st.isDirectory()) throw new UsageError(`${want} (a directory)`);
  }
  return raw;
}

/** Turns one raw string into the flag's typed value, or throws a UsageError naming the flag. */
function convert(label: string, f: Flag, raw: string): unknown {
  switch (f.type) {
    case 'int':
    case 'number':
      return checkNumber(label, f, raw);
    case 'path':
      return checkPath(label, f, raw);
    case 'choice':
      if (!choicesOf(f.choices).includes(raw)) throw bad(label, f, raw);
      return raw;
    case 'list': {
      const items = f.separator
        ? raw
            .split(f.separator)
            .map((s) => s.trim())
            .filter(Boolean)
        : [raw];
      if (items.length === 0) throw bad(label, f, raw);
      const allowed = f.choices && choicesOf(f.choices);
      const wrong = allowed && items.find((i) => !allowed.includes(i));
      if (wrong !== undefined) throw bad(label, f, raw, ` ('${wrong}' is not one)`);
      for (const i of items) if (f.exists) checkPath(label, f, i);
      return items;
    }
    case 'string':
      if (raw === '') throw new UsageError(`${label} must not be empty`);
      if (f.check && !f.check(raw)) throw bad(label, f, raw);
      return raw;
    default:
      throw new Error(`flag ${label} has no value type`);
  }
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      // a swap of two neighbours is one edit ("bacth" for "batch")
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name a typo most likely meant: the only one it starts, or the nearest within a few edits. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  const prefixed = known.filter((k) => name.length >= 3 && k.startsWith(name));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined,
    bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const dd = distance(name, k);
    if (dd < bestD) {
      best = k;
      bestD = dd;
    }
  }
  return best;
}

const isHelp = (s: string | undefined) => s === '--help' || s === '-h';

/**
 * Parses argv against the declarations. Returns undefined when --help (or -h) was given: the caller prints
 * help and exits 0. Every other mistake throws a UsageError naming the flag or argument.
 */
export function parse<const Fs extends Flags, const P extends readonly Positional[] = []>(
  spec: CommandSpec<Fs, P>,
  argv: string[],
): Parsed<Fs, P> | undefined {
  const flags: Flags = spec.flags;
  const options = Object.fromEntries(
    Object.entries(flags).map(([k, f]) => [
      k,
      { type: f.type === 'boolean' ? ('boolean' as const) : ('string' as const) },
    ]),
  );
  const { tokens } = tokenize({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  // help wins over every other mistake on the line, even when a flag swallowed it as its value
  const asksHelp = tokens.some(
    (t) =>
      t.kind === 'option' &&
      (t.name === 'help' || t.name === 'h' || (flags[t.name]?.type !== 'boolean' && !t.inlineValue && isHelp(t.value))),
  );
  if (asksHelp) return undefined;
  const raw = new Map<string, string[]>();
  const pos: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      pos.push(t.value);
      continue;
    }
    const f = Object.hasOwn(flags, t.name) ? flags[t.name] : undefined;
    if (!f || t.rawName.length === 2) {
      // one-letter short flags are not declared by any command (only -h, handled above)
      const s = suggest(t.name, Object.keys(flags));
      throw new UsageError(`unknown flag ${t.rawName}${s ? ` (did you mean --${s}?)` : ''}`);
    }
    if (f.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`--${t.name} takes no value, got '${t.value}'`);
      raw.set(t.name, ['true']);
      continue;
    }
    const v = t.value;
    if (v === undefined) throw new UsageError(`--${t.name} needs a value: ${expectation(f)}`);
    // the tokenizer takes the next word whatever it is; a flag there means this one's value was forgotten
    if (!t.inlineValue && v.startsWith('-') && !NUMERIC.test(v)) {
      const text = f.type === 'string' || f.type === 'path' || f.type === 'list';
      throw new UsageError(
        `--${t.name} needs a value (${expectation(f)}) but is followed by '${v}'` +
          (text ? `; write --${t.name}=${v} if that is the value` : ''),
      );
    }
    raw.set(t.name, [...(raw.get(t.name) ?? []), v]);
  }

  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(flags)) {
    const given = raw.get(name);
    if (f.type === 'boolean') {
      values[name] = given !== undefined;
      continue;
    }
    if (given === undefined) {
      values[name] = f.type === 'list' ? [...(f.default ?? [])] : f.default;
      continue;
    }
    // every occurrence is checked; as with most tools, the last one of a single-valued flag wins
    const converted = given.map((g) => convert(`--${name}`, f, g));
    values[name] = f.type === 'list' ? (converted as string[][]).flat() : converted[converted.length - 1];
  }
  const required = Object.entries(flags)
    .filter(([, f]) => f.type !== 'boolean' && f.required)
    .map(([k]) => `--${k}`);
  const missing = required.filter((k) => {
    const v = values[k.slice(2)];
    return v === undefined || (Array.isArray(v) && v.length === 0);
  });
  if (missing.length === 1 && required.length === 1) {
    throw new UsageError(`${missing[0]} is required: ${(flags[missing[0]!.slice(2)] as FlagBase).help}`);
  }
  if (missing.length > 0) throw new UsageError(`${andList(required)} are required; missing ${andList(missing)}`);

  const decl: readonly Positional[] = spec.positionals ?? [];
  if (pos.length > decl.length) {
    const takes = decl.length ? ` (takes ${decl.map((p) => `<${p.name}>`).join(' ')})` : '';
    throw new UsageError(`unexpected argument '${pos[decl.length]}'${takes}`);
  }
  const positionals = decl.map((p, i) => {
    const v = pos[i];
    if (v === undefined) {
      if (p.required) throw new UsageError(`missing <${p.name}>: ${p.help}`);
      return undefined;
    }
    const label = `<${p.name}>`;
    if (p.type === 'int') return checkNumber(label, p, v);
    if (p.type === 'path') return checkPath(label, p, v);
    return v;
  });
  return { values: values as Values<Fs>, positionals: positionals as PositionalValues<P> };
}

function metavar(f: Flag): string {
  if (f.type === 'boolean') return '';
  if (f.metavar) return f.metavar;
  if (f.type === 'choice') return choicesOf(f.choices).join('|');
  return { int: 'N', number: 'X', string: 'VALUE', path: 'PATH', list: 'LIST' }[f.type];
}

/** Words wrapped to WIDTH, continuation lines indented by `indent` spaces. */
function wrap(words: string[], first: string, indent: number): string {
  const lines: string[] = [];
  let line = first;
  for (const w of words) {
    if (line.length + 1 + w.length > WIDTH && line.trim()) {
      lines.push(line);
      line = ' '.repeat(indent) + w;
    } else line += (line.endsWith(' ') || line === '' ? '' : ' ') + w;
  }
  lines.push(line);
  return lines.join('\n');
}

/** The usage line: required flags bare, optional ones in brackets. */
export function synopsis(spec: CommandSpec<Flags, readonly Positional[]>): string {
  const parts: string[] = (spec.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[<${p.name}>]`));
  for (const [k, f] of Object.entries(spec.flags)) {
    const m = metavar(f);
    const s = m ? `--${k} ${m}` : `--${k}`;
    parts.push(f.type !== 'boolean' && f.required ? s : `[${s}]`);
  }
  const head = `usage: psrlm ${spec.name}`;
  return wrap(parts, head, head.length + 1);
}

/** The whole --help text of a command, generated from its declarations. */
export function helpText(spec: CommandSpec<Flags, readonly Positional[]>): string {
  const rows: Array<[string, string]> = (spec.positionals ?? []).map((p) => [
    `<${p.name}>`,
    p.help + (p.required ? '' : ' (optional)'),
  ]);
  for (const [k, f] of Object.entries(spec.flags)) {
    const m = metavar(f);
    const notes: string[] = [];
    if (f.type !== 'boolean') {
      // a range beyond "positive" or "non-negative" is worth saying before anyone gets it wrong
      const e = expectation(f);
      const plain = /^(a|an) (positive |non-negative )?(integer|number)$/.test(e);
      if ((f.type === 'int' || f.type === 'number') && !plain) notes.push(e);
      if (f.required) notes.push('required');
      else if (f.defaultHelp) notes.push(`default: ${f.defaultHelp}`);
      else if (Array.isArray(f.default)) {
        if (f.default.length > 0) notes.push(`default ${f.default.join((f as ListFlag).separator ?? ' ')}`);
      } else if (f.default !== undefined) notes.push(`default ${String(f.default)}`);
      if (f.type === 'list' && !f.separator) notes.push('repeatable');
    }
    rows.push([m ? `--${k} ${m}` : `--${k}`, f.help + (notes.length ? ` (${notes.join('; ')})` : '')]);
  }
  rows.push(['-h, --help', 'show this help']);
  const w = Math.min(Math.max(...rows.map((r) => r[0].length)), 28);
  const table = rows.map(([a, b]) => {
    const head = a.length > w ? `  ${a}\n${' '.repeat(w + 4)}` : `  ${a.padEnd(w)}  `;
    return wrap(b.split(' '), head, w + 4);
  });
  const title = spec.positionals?.length ? 'arguments and options:' : 'options:';
  return [synopsis(spec), '', ...(spec.description ? [spec.description, ''] : []), title, ...table].join('\n');
}

/**
 * A command from its declarations and its body: `psrlm <name> --help` prints the generated help, bad
 * arguments throw a UsageError (exit 2) before the body runs, and the body gets typed values.
 */
export function command<const Fs extends Flags, const P extends readonly Positional[] = []>(
  spec: CommandSpec<Fs, P>,
  body: (args: Parsed<Fs, P>) => Promise<number>,
): Command {
  const run = async (argv: string[]): Promise<number> => {
    try {
      const args = parse(spec, argv);
      if (!args) {
        console.log(helpText(spec));
        return 0;
      }
      return await body(args);
    } catch (e) {
      if (e instanceof UsageError) e.command ??= spec.name;
      throw e;
    }
  };
  return Object.assign(run, { spec: spec as CommandSpec<Flags, readonly Positional[]>, help: () => helpText(spec) });
}

/** A command with subcommands (`psrlm data build|segment|eft`): the first word picks one. */
export function group(spec: {
  name: string;
  summary: string;
  description?: string;
  commands: Record<string, Command>;
}): Command {
  const names = Object.keys(spec.commands);
  const help = () => {
    const w = Math.max(...names.map((n) => n.length));
    return [
      `usage: psrlm ${spec.name} <${names.join('|')}> [options]`,
      '',
      ...(spec.description ? [spec.description, ''] : []),
      'subcommands:',
      ...names.map((n) => `  ${n.padEnd(w)}  ${spec.commands[n]!.spec.summary}`),
      '',
      `'psrlm ${spec.name} <subcommand> --help' shows a subcommand's options.`,
    ].join('\n');
  };
  const run = async (argv: string[]): Promise<number> => {
    const [sub, ...rest] = argv;
    if (isHelp(sub)) {
      console.log(help());
      return 0;
    }
    if (sub === undefined) throw new UsageError(`a subcommand is required: ${oneOf(names)}`, spec.name);
    const cmd = spec.commands[sub];
    if (!cmd) {
      const s = suggest(sub, names);
      const hint = s ? ` (did you mean '${s}'?)` : '';
      throw new UsageError(`unknown subcommand '${sub}'${hint}; use ${oneOf(names)}`, spec.name);
    }
    return cmd(rest);
  };
  return Object.assign(run, { spec: { ...spec, flags: {} }, help });
}
