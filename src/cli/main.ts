#!/usr/bin/env node
// The `psrlm` command line: a table of subcommands, each in its own module under src/cli/, loaded lazily
// so that `psrlm grade` does not pay for the engine's start-up. Core modules never import from here.
import { fileURLToPath } from 'node:url';

interface Command {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

const commands: Record<string, Command> = {
  demo: { summary: 'run the whole method on the synthetic math world', load: () => import('./demo.js') },
  grade: { summary: 'grade JSONL {gold, pred} pairs as the Qwen2.5-Math toolkit does', load: () => import('./grade.js') },
  extract: { summary: 'extract the normalised answer from JSONL {text} model outputs', load: () => import('./extract.js') },
  eval: { summary: 'benchmark accuracy with an engine, or --gold-check the benchmarks', load: () => import('./eval.js') },
  world: { summary: 'show problems of the synthetic math world with their solutions', load: () => import('./world.js') },
  pretrain: { summary: 'build the initial models M0 and M1 with the embedded engine', load: () => import('./pretrain.js') },
  sft: { summary: 'M1 = SFT of a base model on IFT + EFT records, on the embedded engine or TRL', load: () => import('./sft.js') },
  judge: { summary: "measure a model's judge: held-out EFT and its own candidates", load: () => import('./judge.js') },
  run: { summary: 'run the self-rewarding loop of a config (resumable)', load: () => import('./run.js') },
  data: { summary: 'build the base, IFT and EFT data sets and their manifest', load: () => import('./data.js') },
  tts: { summary: 'test-time scaling: greedy vs majority vote vs step-wise best-of-w with the model\'s own judge', load: () => import('./tts.js') },
  report: { summary: 'write a run\'s self-contained report.html (charts), optionally beside its SRLM baseline', load: () => import('./report.js') },
  explain: { summary: "show one question's step tree and verdicts from a run", load: () => import('./explain.js') },
  serve: { summary: 'serve a checkpoint over an OpenAI-compatible HTTP API', load: () => import('./serve.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const lines = Object.entries(commands).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`);
  return `usage: psrlm <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'psrlm <command> --help' shows a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`psrlm: unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  const mod = await cmd.load();
  return mod.run(rest);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      console.error(`psrlm: ${err instanceof Error ? err.message : String(err)}`);
      if (process.env.PSRLM_DEBUG) console.error(err);
      process.exitCode = 1;
    },
  );
}
