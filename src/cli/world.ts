// `psrlm world sample`: prints problems of a split with their step solutions, to look at the world.
import { parseArgs } from 'node:util';
import { generateProblem, SPLITS, worldConfig, type Split } from '../world/generator.js';
import { solutionText } from '../data/ift.js';

const USAGE = `usage: psrlm world sample [--n 5] [--split train|test|harder] [--from 0] [--seed N] [--json]

Prints problems with their canonical step solutions. Problem (split, index) is a pure function of the
seed, so the same command prints the same problems on any machine.`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'sample') {
    console.error(`psrlm world: unknown subcommand '${sub}'.\n\n${USAGE}`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      n: { type: 'string', default: '5' },
      split: { type: 'string', default: 'train' },
      from: { type: 'string', default: '0' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) { console.log(USAGE); return 0; }
  const split = values.split as Split;
  if (!SPLITS.includes(split)) { console.error(`psrlm world sample: --split must be one of ${SPLITS.join(', ')}, got '${values.split}'`); return 2; }
  const n = Number(values.n), from = Number(values.from);
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(from) || from < 0) { console.error('psrlm world sample: --n and --from must be non-negative integers'); return 2; }
  const world = worldConfig(values.seed !== undefined ? { seed: Number(values.seed) } : {});
  if (!Number.isInteger(world.seed)) { console.error(`psrlm world sample: --seed must be an integer, got '${values.seed}'`); return 2; }
  for (let i = from; i < from + n; i++) {
    const p = generateProblem(world, split, i);
    if (values.json) {
      console.log(JSON.stringify({ id: p.id, problem: p.text, solution: solutionText(p), answer: p.answer, steps: p.steps }));
    } else {
      console.log(`# ${p.id} (${p.steps} steps)\n${p.text}\n${solutionText(p)}`);
    }
  }
  return 0;
}
