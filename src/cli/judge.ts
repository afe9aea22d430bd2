// `psrlm judge --model <checkpoint> | --engine <spec> [--prefixes N] [--eft N] [--singles N] [--candidates W]
// [--json]`: how good the model's judge is, before a loop relies on it: accuracy on held-out EFT examples in
// both orders, order consistency, held-out single-candidate checks (the check alone, without a second candidate to copy
// from; for templates that have them), and on the model's own sampled candidates the judge's pick against a
// random pick and a majority vote (src/judge/health.ts). The verifier only measures.
import { EmbeddedEngine } from '../engine/embedded.js';
import { buildRecords, dataConfig } from '../data/build.js';
import { listTemplates, loadTemplate } from '../data/templates.js';
import { collectSingles } from '../data/single.js';
import { judgeReport, singleReport } from '../measure/world.js';
import { DEFAULT_HEALTH, heldOutPrefixes, judgeHealth } from '../judge/health.js';
import { generateProblems } from '../world/index.js';
import { openEngine } from '../serve/registry.js';
import { command, UsageError } from './args.js';

export const run = command(
  {
    name: 'judge',
    summary: "measure a model's judge: held-out EFT and its own candidates",
    description: `How good the model's judge is, before a loop relies on it: held-out EFT accuracy in both orders, order
consistency, held-out single-candidate checks, and its pick on its own candidates vs random and majority.`,
    flags: {
      model: { type: 'path', exists: 'dir', metavar: 'DIR', help: 'checkpoint directory (the embedded engine)' },
      engine: {
        type: 'string',
        metavar: 'SPEC',
        help: 'or any engine spec, e.g. a served model (openai:http://HOST:PORT/v1?model=NAME&tokenizer=DIR)',
      },
      prefixes: { type: 'int', min: 0, default: 200, help: 'held-out test prefixes for the own-candidates check' },
      eft: { type: 'int', min: 0, default: 500, help: 'held-out EFT examples' },
      singles: {
        type: 'int',
        min: 0,
        default: 200,
        help: 'held-out single-candidate checks (templates that have them)',
      },
      candidates: { type: 'int', min: 2, default: 6, metavar: 'W', help: 'own candidates sampled per prefix' },
      template: {
        type: 'choice',
        choices: () => listTemplates(),
        default: 'compact',
        metavar: 'NAME',
        help: 'prompt template',
      },
      json: { type: 'boolean', help: 'the three reports as one JSON line' },
    },
  },
  async ({ values }) => {
    const t = loadTemplate(values.template);
    if ((values.model === undefined) === (values.engine === undefined))
      throw new UsageError('give --model <checkpoint dir> or --engine <spec>, one of them');
    const engine = values.engine ? await openEngine(values.engine) : EmbeddedEngine.load(values.model!);
    try {
      const data = dataConfig({ template: values.template });
      const built = buildRecords({
        ...data,
        base: { problems: 0, practice: 0 },
        ift: { ...data.ift, problems: 0 },
        eft: { ...data.eft, trainPairs: 0 },
      });
      const eft = await judgeReport(engine, built.eftTest.slice(0, values.eft));
      // held-out single checks: test-split problems (the EFT test pairs use the same split, never train)
      const nSingles = t.check_prompt === undefined ? 0 : values.singles;
      const singles =
        nSingles > 0
          ? await singleReport(
              engine,
              collectSingles(data.world, t, data.seed, 'test', 0, nSingles, data.budget.eft, {
                policy: data.eft.policy,
                explain: data.eft.explain,
              }).records,
            )
          : null;
      const problems = generateProblems(data.world, 'test', values.prefixes);
      const health = await judgeHealth(engine, t, heldOutPrefixes(problems, 7), {
        ...DEFAULT_HEALTH,
        candidates: values.candidates,
      });
      if (values.json) {
        console.log(JSON.stringify({ eft_test: eft, single_checks: singles, own_candidates: health }));
      } else {
        const pc = (x: number) => `${(100 * x).toFixed(1)}%`;
        console.log(
          `held-out EFT (${eft.n}): accuracy ${pc(eft.accuracy)} (correct step first ${pc(eft.accuracy_ab)}, ` +
            `second ${pc(eft.accuracy_ba)}), order consistency ${pc(eft.order_consistency)}, verdict ` +
            `A ${pc(eft.first_position_rate)}, parse failures ${eft.parse_failures}`,
        );
        if (singles)
          console.log(
            `held-out single checks (${singles.n}): right word ${pc(singles.accuracy)} (right ` +
              `steps ${pc(singles.accuracy_right)}, wrong ${pc(singles.accuracy_wrong)}, wrong result ` +
              `alone ${pc(singles.accuracy_arithmetic)}), whole line exact ${pc(singles.exact)}, parse ` +
              `failures ${singles.parse_failures}`,
          );
        console.log(
          `own candidates (${health.prefixes} prefixes x ${values.candidates}): ` +
            `mixed ${pc(health.mixed_share)}; on mixed prefixes the judge's pick is ` +
            `right ${pc(health.judge_pick)} vs random ${pc(health.random_pick)} vs ` +
            `majority ${pc(health.majority_pick)}`,
        );
        console.log(
          `  candidate accuracy ${pc(health.candidate_accuracy)}, first-position ` +
            `verdicts ${pc(health.first_position_rate)}, order flips ${pc(health.order_flip_rate)} (right vs ` +
            `wrong pairs: ${pc(health.decisive_order_flip_rate)} of ${health.decisive_order_pairs}), parse ` +
            `failures ${pc(health.parse_failure_rate)}, all-tied ${pc(health.tie_rate)}, length ` +
            `bias ${health.length_bias.toFixed(2)} chars`,
        );
      }
    } finally {
      await engine.close();
    }
    return 0;
  },
);
