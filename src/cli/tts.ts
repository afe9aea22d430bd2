// `psrlm tts --model <engine spec or checkpoint dir> [--problems N] [--split test|harder] [--width W]
// [--seed S] [--json]`: test-time scaling on the synthetic world — greedy vs majority vote vs step-wise
// best-of-w with the model's own judge (src/measure/tts.ts, paper Table 5). Prints the table; with --json the
// last line of stdout is the report as one JSON object. Progress goes to stderr.
import { parseArgs } from 'node:util';
import { openEngine } from '../serve/registry.js';
import { dataConfig } from '../data/build.js';
import { loadTemplate } from '../data/templates.js';
import { ttsReport, ttsTable, type TtsMethod } from '../measure/tts.js';
import { Progress } from '../util/progress.js';
import { generateProblems } from '../world/index.js';

const USAGE = `usage: psrlm tts --model <engine spec or checkpoint dir> [--problems N] [--split test|harder] [--width W] [--seed S] [--json]

  --model SPEC      a checkpoint directory, embedded:<dir> or openai:<url> (see the engine registry)
  --problems N      first N questions of the split (default 100)
  --split NAME      test | harder (default test)
  --width W         candidates per step for best-of-w, and samples for the majority vote (default 6)
  --k K             samples for the majority vote (default: W)
  --seed S          seed of every draw (default 0)
  --max-tokens N    tokens of one whole solution, greedy and majority (default 320)
  --data-seed S     the world's seed (default: the shipped data's)
  --template NAME   prompt template (default compact)
  --threads N       embedded engine threads
  --json            the report as one JSON line, last on stdout`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' }, problems: { type: 'string', default: '100' }, split: { type: 'string', default: 'test' },
        width: { type: 'string', default: '6' }, k: { type: 'string' }, seed: { type: 'string', default: '0' },
        'max-tokens': { type: 'string', default: '320' }, 'data-seed': { type: 'string' }, template: { type: 'string', default: 'compact' },
        threads: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    console.error(`psrlm tts: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) { console.log(USAGE); return 0; }
  if (!values.model) { console.error(`psrlm tts: --model is required\n\n${USAGE}`); return 2; }
  if (values.split !== 'test' && values.split !== 'harder') { console.error(`psrlm tts: --split must be test or harder, got '${values.split}'`); return 2; }
  const int = (name: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
    return x;
  };
  let n: number, width: number, seed: number, maxTokens: number, k: number | undefined, dataSeed: number | undefined, threads: number | undefined;
  try {
    n = int('problems', values.problems, 1)!; width = int('width', values.width, 2)!; seed = int('seed', values.seed, 0)!;
    maxTokens = int('max-tokens', values['max-tokens'], 1)!; k = int('k', values.k, 1);
    dataSeed = int('data-seed', values['data-seed'], 0); threads = int('threads', values.threads, 1);
  } catch (e) { console.error(`psrlm tts: ${(e as Error).message}`); return 2; }

  const template = loadTemplate(values.template!);
  const problems = generateProblems(dataConfig(dataSeed === undefined ? {} : { seed: dataSeed }).world, values.split, n);
  const engine = await openEngine(values.model, threads === undefined ? {} : { threads });
  const bars = new Map<TtsMethod, Progress>(), seen = new Map<TtsMethod, number>();
  try {
    // the embedded engine knows its context; a remote one does not say, and the server reports overflows
    const ctx = (engine as { config?: { n_ctx?: number } }).config?.n_ctx;
    const r = await ttsReport(engine, template, problems, {
      width, k, seed, max_tokens: maxTokens, context_tokens: ctx,
      onProgress: (m, done, total) => {
        let bar = bars.get(m);
        if (!bar) { bar = new Progress(`tts ${m}`, total, { unit: 'questions' }); bars.set(m, bar); }
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
}
