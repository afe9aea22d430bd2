#!/usr/bin/env node
// The `psrlm` command line: a table of subcommands, each in its own module under src/cli/, loaded lazily
// so that `psrlm grade` does not pay for the engine's start-up. Core modules never import from here.
// Usage mistakes (src/cli/args.ts's UsageError) exit 2 with a message naming the flag; other failures exit 1.
import { fileURLToPath } from 'node:url';
import { suggest, UsageError, type Command } from './args.js';

interface Entry {
  summary: string;
  load: () => Promise<{ run: Command }>;
}

const commands: Record<string, Entry> = {
  demo: { summary: 'run the whole method on the synthetic math world', load: () => import('./demo.js') },
  grade: {
    summary: 'grade JSONL {gold, pred} pairs as the Qwen2.5-Math toolkit does',
    load: () => import('./grade.js'),
  },
  extract: {
    summary: 'extract the normalised answer from JSONL {text} model outputs',
    load: () => import('./extract.js'),
  },
  eval: {
    summary: 'benchmark accuracy with an engine, or --gold-check the benchmarks',
    load: () => import('./eval.js'),
  },
  world: {
    summary: 'show problems of the synthetic math world with their solutions',
    load: () => import('./world.js'),
  },
  pretrain: {
    summary: 'build the initial models M0 and M1 with the embedded engine',
    load: () => import('./pretrain.js'),
  },
  sft: {
    summary: 'M1 = SFT of a base model on IFT + EFT records, on the embedded engine or TRL',
    load: () => import('./sft.js'),
  },
  judge: { summary: "measure a model's judge: held-out EFT and its own candidates", load: () => import('./judge.js') },
  run: { summary: 'run the self-rewarding loop of a config (resumable)', load: () => import('./run.js') },
  data: { summary: 'build the base, IFT and EFT data sets and their manifest', load: () => import('./data.js') },
  tts: {
    summary: "test-time scaling: greedy vs majority vote vs step-wise best-of-w with the model's own judge",
    load: () => import('./tts.js'),
  },
  report: {
    summary: "write a run's self-contained report.html (charts), optionally beside its SRLM baseline",
    load: () => import('./report.js'),
  },
  explain: { summary: "show one question's step tree and verdicts from a run", load: () => import('./explain.js') },
  serve: { summary: 'serve a checkpoint over an OpenAI-compatible HTTP API', load: () => import('./serve.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const lines = Object.entries(commands).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`);
  return (
    `usage: psrlm <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    "'psrlm <command> --help' (or 'psrlm help <command>') shows a command's options."
  );
}

/** The command names, for tests that go through every command. */
export const COMMANDS: readonly string[] = Object.keys(commands);

/** A command's module loaded, by name (its declarations are `run.spec`). */
export async function loadCommand(name: string): Promise<Command> {
  if (!Object.hasOwn(commands, name)) throw new Error(`no command '${name}'`);
  return (await commands[name]!.load()).run;
}

export async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  if (name === 'help' && rest[0] !== undefined) [name, rest] = [rest[0], ['--help']];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === undefined) {
      console.error(usage());
      return 2;
    }
    console.log(usage());
    return 0;
  }
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    const s = suggest(name, Object.keys(commands));
    console.error(`psrlm: unknown command '${name}'${s ? ` (did you mean '${s}'?)` : ''}.\n\n${usage()}`);
    return 2;
  }
  const mod = await cmd.load();
  try {
    return await mod.run(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const where = e.command ?? name;
    console.error(`psrlm ${where}: ${e.message}\n(run 'psrlm ${where} --help' for its usage)`);
    return 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`psrlm: ${err instanceof Error ? err.message : String(err)}`);
      if (process.env.PSRLM_DEBUG) console.error(err);
      process.exitCode = 1;
    },
  );
}
