// The base corpus for M0 (paper §4.1: M0 is a base model, not an instruction model). M0 must know the
// domain — the stories, the arithmetic, the words that name operations — but neither the `Step n:` format
// nor judging, so that M1's SFT on IFT + EFT is what teaches those, as in the paper. Two document types:
//
// - solution: a problem and a worked solution in free prose ("He buys 15, so 23+15=38. ... So he has 41
//   pens."), never `Step n:` and never \boxed{}.
// - practice: arithmetic drill text of the operations and number sizes the world uses, written (column)
//   arithmetic ("150+63: 0+3=3 5+6=11 1+0+1=2 so 213"), the last-digit facts ("the last digit of 38+15
//   is 3"), and the word-to-operation facts.
import { applyOp, type Op, type Problem, type WorldEvent } from '../world/generator.js';
import { WorldRng } from '../world/rng.js';
import { columnDrill } from '../world/columns.js';
import type { BaseRecord } from './schema.js';

const CAP = (s: string) => s[0].toUpperCase() + s.slice(1);

/** One free-layout sentence per canonical step, phrasing drawn from `rng`. */
function proseSolution(p: Problem, rng: WorldRng): string {
  const out: string[] = [];
  const pro = p.text.includes(' He ') ? 'he' : 'she';
  let k = 0;
  const eq = (i: number) => {
    const a = p.actions[i];
    return `${a.x}${a.op}${a.y}=${a.z}`;
  };
  p.events.forEach((e: WorldEvent) => {
    switch (e.type) {
      case 'gain':
      case 'lose': {
        const s = rng.pick([
          `${CAP(pro)} ${e.verb} ${e.n}, so ${eq(k)}.`,
          `After that, ${eq(k)}.`,
          `${CAP(e.verb)} ${e.n}: ${eq(k)}.`,
          `Then ${eq(k)}.`,
        ]);
        out.push(s);
        k += 1;
        break;
      }
      case 'packGain':
      case 'packLose':
        out.push(rng.pick([`${e.count} ${e.unit} of ${e.size} make ${eq(k)}.`, `The ${e.unit} hold ${eq(k)}.`]));
        out.push(rng.pick([`${CAP(pro)} ${e.verb} them, so ${eq(k + 1)}.`, `Now ${eq(k + 1)}.`]));
        k += 2;
        break;
      case 'scale':
        out.push(
          rng.pick([
            `${CAP(pro)} ${e.verb} them: ${eq(k)}.`,
            `${e.k === 2 ? 'Twice' : 'Three times'} that is ${eq(k)}.`,
          ]),
        );
        k += 1;
        break;
      case 'split':
        out.push(rng.pick([`${e.k === 2 ? 'Half' : 'A third'} of that is ${eq(k)}.`, `${CAP(pro)} keeps ${eq(k)}.`]));
        k += 1;
        break;
    }
  });
  out.push(
    rng.pick([
      `So ${p.name} has ${p.answer} ${p.item}.`,
      `The answer is ${p.answer}.`,
      `${p.answer} ${p.item} in the end.`,
    ]),
  );
  return `${p.text}\n${out.join(' ')}`;
}

export function baseSolutionRecord(p: Problem, seed: number): BaseRecord {
  const rng = new WorldRng(seed);
  return { id: `base-${p.id}`, type: 'solution', split: p.split, index: p.index, text: proseSolution(p, rng) };
}

const WORD_FACTS = [
  'To buy, find, win or get adds.',
  'To sell, lose, use or give away takes away.',
  'Bags of, boxes of, packs of and rows of multiply.',
  'Doubles means times 2.',
  'Triples means times 3.',
  'Halves means divide by 2.',
  'Keeping a third means divide by 3.',
];

function drill(rng: WorldRng): string {
  const op = rng.pick(['+', '+', '-', '-', '*', '/'] as Op[]);
  let x: number, y: number;
  if (op === '*') {
    x = rng.int(2, 99);
    y = rng.int(2, 12);
    if (rng.chance(0.5)) [x, y] = [y, x];
  } else if (op === '/') {
    y = rng.pick([2, 3]);
    x = y * rng.int(2, 333);
  } else if (op === '-') {
    x = rng.int(10, 999);
    y = rng.int(2, Math.min(x - 1, 99));
  } else {
    x = rng.int(2, 900);
    y = rng.int(2, 99);
  }
  const z = applyOp(x, op, y);
  const r = rng.next();
  // Written (column) arithmetic, the method the judge checks with (src/world/columns.ts): a base model
  // that knows arithmetic knows how to check a sum on paper, as a real one does.
  if (r < 0.45) return columnDrill(x, op, y) ?? `${x}${op}${y}=${z}`;
  return r < 0.55 ? `the last digit of ${x}${op}${y} is ${z % 10}` : `${x}${op}${y}=${z}`;
}

/** A practice document: a few lines of drills, sometimes with a word fact. */
export function practiceRecord(index: number, seed: number): BaseRecord {
  const rng = new WorldRng(seed);
  const lines: string[] = [];
  const n = rng.int(2, 3);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.25)) {
      lines.push(rng.pick(WORD_FACTS));
      continue;
    }
    const k = rng.int(3, 5);
    const items = Array.from({ length: k }, () => drill(rng));
    lines.push(`${rng.pick(['Practice', 'Facts', 'Sums', 'Drill'])}: ${items.join(', ')}.`);
  }
  return { id: `practice-${index}`, type: 'practice', split: 'train', index, text: lines.join('\n') };
}
