// `psrlm tts --model <engine spec or checkpoint dir> [--problems N] [--split test|harder] [--width W]
// [--seed S] [--json]`: test-time scaling on the synthetic world — greedy vs majority vote vs step-wise
// best-of-w with the model's own judge (src/measure/tts.ts, paper Table 5). Prints the table; with --json the
// last line of stdout is the report as one JSON object. Progress goes to stderr.
import { openEngine } from '../serve/registry.js';
import { dataConfig } from '../data/build.js';
import { listTemplates, loadTemplate } from '../data/templates.js';
import { ttsReport, ttsTable, type TtsMethod } from '../measure/tts.js';
import { Progress } from '../util/progress.js';
import { generateProblems, SOLUTION_TOKENS } from '../world/index.js';
import { command } from './args.js';

const SPEC = {
  name: 'tts',
  summary: "test-time scaling: greedy vs majority vote vs step-wise best-of-w with the model's own judge",
  description: 'Test-time scaling on the synthetic world (paper Table 5). Prints the table; progress goes to stderr.',
  flags: {
    model: {
      type: 'string',
      required: true,
      metavar: 'SPEC',
      help: 'a checkpoint directory, embedded:<dir> or openai:<url> (see the engine registry)',
    },
    problems: { type: 'int', min: 1, default: 100, help: 'first N questions of the split' },
    split: { type: 'choice', choices: ['test', 'harder'], default: 'test', help: 'which split' },
    width: {
      type: 'int',
      min: 2,
      default: 6,
      metavar: 'W',
      help: 'candidates per step for best-of-w, and samples for the majority vote',
    },
    k: { type: 'int', min: 1, metavar: 'K', defaultHelp: 'W', help: 'samples for the majority vote' },
    seed: { type: 'int', min: 0, default: 0, metavar: 'S', help: 'seed of every draw' },
    'max-tokens': {
      type: 'int',
      min: 1,
      default: SOLUTION_TOKENS,
      help: 'tokens of one whole solution, greedy and majority',
    },
    'data-seed': { type: 'int', min: 0, metavar: 'S', defaultHelp: "the shipped data's", help: "the world's seed" },
    template: {
      type: 'choice',
      choices: () => listTemplates(),
      default: 'compact',
      metavar: 'NAME',
      help: 'prompt template',
    },
    threads: { type: 'int', min: 1, help: 'embedded engine threads' },
    json: { type: 'boolean', help: 'the report as one JSON line, last on stdout' },
  },
} as const;

export const run = command(SPEC, async ({ values }) => {
  const { problems: n, width, seed, k, threads } = values;
  const maxTokens = values['max-tokens'],
    dataSeed = values['data-seed'];

  const template = loadTemplate(values.template);
  const problems = generateProblems(
    dataConfig(dataSeed === undefined ? {} : { seed: dataSeed }).world,
    values.split,
    n,
  );
  const engine = await openEngine(values.model, threads === undefined ? {} : { threads });
  const bars = new Map<TtsMethod, Progress>(),
    seen = new Map<TtsMethod, number>();
  try {
    // the embedded engine knows its context; a remote one does not say, and the server reports overflows
    const ctx = (engine as { config?: { n_ctx?: number } }).config?.n_ctx;
    const r = await ttsReport(engine, template, problems, {
      width,
      k,
      seed,
      max_tokens: maxTokens,
      context_tokens: ctx,
      onProgress: (m, done, total) => {
        let bar = bars.get(m);
        if (!bar) {
          bar = new Progress(`tts ${m}`, total, { unit: 'questions' });
          bars.set(m, bar);
        }
        bar.tick(done - (seen.get(m) ?? 0));
        seen.set(m, done);
        if (done >= total) bar.finish();
      },
    });
    console.log(ttsTable(r));
    if (values.json) console.log(JSON.stringify(r));
  } finally {
    for (const b of bars.values()) b.finish();
    await engine.close();
  }
  return 0;
});
