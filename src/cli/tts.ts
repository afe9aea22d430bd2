// `psrlm tts --model <engine spec or checkpoint> [--problems N] [--split test|harder] [--width W] [--seed S]
// [--json]`: test-time scaling on the synthetic world — greedy vs majority vote vs step-wise best-of-w
// with the model's own judge (src/eval/tts.ts, paper Table 5).
import { parseArgs } from 'node:util';
import { openEngine } from '../engine/registry.js';
import { dataConfig } from '../data/build.js';
import { loadTemplate } from '../data/templates.js';
import { ttsReport, ttsTable } from '../eval/tts.js';
import { generateProblems } from '../world/index.js';

const USAGE = 'usage: psrlm tts --model <engine spec or checkpoint dir> [--problems N] [--split test|harder] [--width W] [--seed S] [--template NAME] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, problems: { type: 'string', default: '100' }, split: { type: 'string', default: 'test' },
      width: { type: 'string', default: '6' }, seed: { type: 'string', default: '0' }, template: { type: 'string', default: 'compact' },
      json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.model) { console.log(USAGE); return values.help ? 0 : 2; }
  const int = (name: string, v: string, min: number) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
    return x;
  };
  if (values.split !== 'test' && values.split !== 'harder') { console.error(`psrlm tts: --split must be test or harder, got '${values.split}'`); return 2; }
  let n: number, width: number, seed: number;
  try {
    n = int('problems', values.problems!, 1); width = int('width', values.width!, 2); seed = int('seed', values.seed!, 0);
  } catch (e) { console.error(`psrlm tts: ${(e as Error).message}`); return 2; }
  const engine = await openEngine(values.model);
  try {
    const problems = generateProblems(dataConfig({}).world, values.split, n);
    const ctx = (engine as { config?: { n_ctx?: number } }).config?.n_ctx;
    const r = await ttsReport(engine, loadTemplate(values.template!), problems, { width, seed, context_tokens: ctx });
    console.log(values.json ? JSON.stringify(r) : ttsTable(r));
  } finally {
    await engine.close();
  }
  return 0;
}
