// `psrlm judge --model <checkpoint> [--prefixes N] [--eft N] [--singles N] [--candidates W] [--json]`: how
// good the model's judge is, before a loop relies on it: accuracy on held-out EFT examples in both orders,
// order consistency, held-out single-candidate checks (the check alone, without a second candidate to copy
// from; for templates that have them), and on the model's own sampled candidates the judge's pick against a
// random pick and a majority vote (src/judge/health.ts). The verifier only measures.
import { parseArgs } from 'node:util';
import { EmbeddedEngine } from '../engine/embedded.js';
import { buildRecords, dataConfig } from '../data/build.js';
import { loadTemplate } from '../data/templates.js';
import { collectSingles } from '../data/single.js';
import { judgeReport, singleReport } from '../measure/world.js';
import { DEFAULT_HEALTH, heldOutPrefixes, judgeHealth } from '../judge/health.js';
import { generateProblems } from '../world/index.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      prefixes: { type: 'string', default: '200' },
      eft: { type: 'string', default: '500' },
      singles: { type: 'string', default: '200' },
      candidates: { type: 'string', default: '6' },
      template: { type: 'string', default: 'compact' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.model) {
    console.log('usage: psrlm judge --model <checkpoint dir> [--prefixes N] [--eft N] [--singles N] [--candidates W] [--template NAME] [--json]');
    return values.help ? 0 : 2;
  }
  for (const k of ['prefixes', 'eft', 'singles', 'candidates'] as const) {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v < (k === 'candidates' ? 2 : 0)) { console.error(`psrlm judge: --${k} must be an integer ≥ ${k === 'candidates' ? 2 : 0}, got '${values[k]}'`); return 2; }
  }
  const t = loadTemplate(values.template!);
  const engine = EmbeddedEngine.load(values.model);
  try {
    const data = dataConfig({ template: values.template! });
    const built = buildRecords({ ...data, base: { problems: 0, practice: 0 }, ift: { problems: 0 }, eft: { ...data.eft, trainPairs: 0 } });
    const eft = await judgeReport(engine, built.eftTest.slice(0, Number(values.eft)));
    // held-out single checks: test-split problems (the EFT test pairs use the same split, never train)
    const nSingles = t.check_prompt === undefined ? 0 : Number(values.singles);
    const singles = nSingles > 0
      ? await singleReport(engine, collectSingles(data.world, t, data.seed, 'test', 0, nSingles, data.budget.eft, { policy: data.eft.policy, explain: data.eft.explain }).records)
      : null;
    const problems = generateProblems(data.world, 'test', Number(values.prefixes));
    const health = await judgeHealth(engine, t, heldOutPrefixes(problems, 7), { ...DEFAULT_HEALTH, candidates: Number(values.candidates) });
    if (values.json) {
      console.log(JSON.stringify({ eft_test: eft, single_checks: singles, own_candidates: health }));
    } else {
      const pc = (x: number) => `${(100 * x).toFixed(1)}%`;
      console.log(`held-out EFT (${eft.n}): accuracy ${pc(eft.accuracy)} (correct step first ${pc(eft.accuracy_ab)}, second ${pc(eft.accuracy_ba)}), order consistency ${pc(eft.order_consistency)}, verdict A ${pc(eft.first_position_rate)}, parse failures ${eft.parse_failures}`);
      if (singles) console.log(`held-out single checks (${singles.n}): right word ${pc(singles.accuracy)} (right steps ${pc(singles.accuracy_right)}, wrong ${pc(singles.accuracy_wrong)}, wrong result alone ${pc(singles.accuracy_arithmetic)}), whole line exact ${pc(singles.exact)}, parse failures ${singles.parse_failures}`);
      console.log(`own candidates (${health.prefixes} prefixes x ${values.candidates}): mixed ${pc(health.mixed_share)}; on mixed prefixes the judge's pick is right ${pc(health.judge_pick)} vs random ${pc(health.random_pick)} vs majority ${pc(health.majority_pick)}`);
      console.log(`  candidate accuracy ${pc(health.candidate_accuracy)}, first-position verdicts ${pc(health.first_position_rate)}, order flips ${pc(health.order_flip_rate)} (right vs wrong pairs: ${pc(health.decisive_order_flip_rate)} of ${health.decisive_order_pairs}), parse failures ${pc(health.parse_failure_rate)}, all-tied ${pc(health.tie_rate)}, length bias ${health.length_bias.toFixed(2)} chars`);
    }
  } finally {
    await engine.close();
  }
  return 0;
}
