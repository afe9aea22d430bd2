// `psrlm world sample`: prints problems of a split with their step solutions, to look at the world.
import { generateProblem, SPLITS, worldConfig } from '../world/generator.js';
import { solutionText } from '../data/ift.js';
import { command, group } from './args.js';

const sample = command(
  {
    name: 'world sample',
    summary: 'print problems of a split with their step solutions',
    description: `Prints problems with their step solutions (in one line per step; --written F writes that share of
sums and differences out in columns, as IFT does). Problem (split, index) is a pure function of the
seed, so the same command prints the same problems on any machine.`,
    flags: {
      n: { type: 'int', min: 0, default: 5, help: 'how many problems' },
      split: { type: 'choice', choices: SPLITS, default: 'train', help: 'which split' },
      from: { type: 'int', min: 0, default: 0, help: 'index of the first problem' },
      seed: { type: 'int', help: "the world's seed", defaultHelp: "the world's default" },
      written: {
        type: 'number',
        min: 0,
        max: 1,
        default: 0,
        metavar: 'F',
        help: 'share of sums and differences written out in columns, as IFT writes them (ift.written)',
      },
      json: { type: 'boolean', help: 'one JSON object per problem' },
    },
  },
  async ({ values }) => {
    const { n, from, split } = values;
    const world = worldConfig(values.seed !== undefined ? { seed: values.seed } : {});
    for (let i = from; i < from + n; i++) {
      const p = generateProblem(world, split, i);
      if (values.json) {
        console.log(
          JSON.stringify({
            id: p.id,
            problem: p.text,
            solution: solutionText(p, values.written),
            answer: p.answer,
            steps: p.steps,
          }),
        );
      } else {
        console.log(`# ${p.id} (${p.steps} steps)\n${p.text}\n${solutionText(p, values.written)}`);
      }
    }
    return 0;
  },
);

export const run = group({
  name: 'world',
  summary: 'show problems of the synthetic math world with their solutions',
  commands: { sample },
});
