// `psrlm run <config.yaml> [--out DIR] [--quiet]`: the self-rewarding loop (M1 → M2 → … , paper §3) as a
// resumable run (src/run/loop.ts). The same command after an interruption, even kill -9, resumes where the
// run stopped and ends with the same artifacts as an uninterrupted run. The config schema is
// src/run/config.ts; configs/demo.yaml is an example. The start-up checks (src/run/check.ts) run first;
// `--check` runs only them and prints their result as one JSON line.
import path from 'node:path';
import { checkRun } from '../run/check.js';
import { loadConfig } from '../run/config.js';
import { runLoop } from '../run/loop.js';
import { command } from './args.js';

export const run = command(
  {
    name: 'run',
    summary: 'run the self-rewarding loop of a config (resumable)',
    description: `Runs the self-rewarding iterations of the config into DIR (default runs/<config name>), resuming a run
already there. Layout: manifest.json, baseline/eval.json, iter-N/{health.json, samples.jsonl,
search.json, pairs.jsonl, pairs.trl.jsonl, pairs.stepdpo.jsonl, pairs.json, dpo.json, model/, eval.json,
done/}, summary.json, timings.json.
Start-up checks run first (model files, context lengths, training precision, vLLM version against the
engine's flags, the question file, disk space for the iterates) and any failure stops the run before it
starts; --check runs only them and prints one JSON line {ok, errors, warnings, checks} (exit 0 when ok).`,
    positionals: [
      {
        name: 'config.yaml',
        type: 'path',
        exists: 'file',
        required: true,
        help: 'the run config (YAML or JSON; src/run/config.ts)',
      },
    ],
    flags: {
      out: { type: 'path', metavar: 'DIR', defaultHelp: 'runs/<config name>', help: 'the run directory' },
      quiet: { type: 'boolean', help: 'no progress bars and no log lines' },
      check: {
        type: 'boolean',
        help:
          'validate the config without running it: one JSON line {ok, errors, warnings, checks}; exit 1 ' +
          'when not ok',
      },
    },
  },
  async ({ values, positionals: [file] }) => {
    let cfg;
    try {
      cfg = loadConfig(file);
    } catch (e) {
      if (!values.check) throw e;
      const message = (e as Error).message;
      const report = { ok: false, errors: [{ check: 'config', message }], warnings: [], checks: {} };
      process.stdout.write(JSON.stringify(report) + '\n');
      return 1;
    }
    const out = values.out ?? path.join('runs', path.basename(file).replace(/\.(ya?ml|json)$/i, ''));
    const report = await checkRun(cfg, { configDir: path.dirname(file), out });
    if (values.check) {
      process.stdout.write(JSON.stringify(report) + '\n');
      return report.ok ? 0 : 1;
    }
    const log = values.quiet ? () => {} : (s: string) => process.stderr.write(s + '\n');
    for (const w of report.warnings) log(`WARNING (${w.check}): ${w.message}`);
    if (!report.ok) {
      const lines = report.errors.map((e) => `  ${e.check}: ${e.message}`);
      throw new Error(
        `${file}: the start-up checks failed (psrlm run --check ${file} shows them all)\n` + lines.join('\n'),
      );
    }
    await runLoop(cfg, out, { progress: !values.quiet, log: values.quiet ? () => {} : undefined });
    return 0;
  },
);
