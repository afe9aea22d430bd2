// The protocol behind the recorded agreement collections (test/eval/cases/): how a case's inputs become
// the two strings that math_equal compares, identical to the one used to record the toolkit's verdicts.
//   - gold: the last box's content when the gold contains "boxed" (as for MATH solutions), else the gold
//     through strip_string (as for answer-field benchmarks);
//   - mode "grade": pred is a box's content (the `psrlm grade` contract);
//   - mode "pipeline": text is a full model output, through extract_answer and strip_string (the toolkit's
//     evaluation path).
import { mathEqual } from './equal.js';
import { extractAnswer, extractPrediction, normalizeBoxContent } from './extract.js';
import { stripString } from './normalize.js';

export interface RecordedCase {
  id: number;
  source: string;
  mode: 'grade' | 'pipeline';
  gold: string;
  pred?: string;
  text?: string;
  /** The strings and verdict the toolkit produced for this case. */
  toolkit_gold: string;
  toolkit_pred: string;
  toolkit_equal: boolean;
}

export function caseGold(gold: string, strict = false): string {
  return gold.includes('boxed') ? extractAnswer(gold, { strict }) : stripString(gold, { strict });
}

export function caseVerdict(c: RecordedCase, strict = false): { gold: string; pred: string; equal: boolean } {
  const gold = caseGold(c.gold, strict);
  const pred =
    c.mode === 'grade' ? normalizeBoxContent(c.pred ?? '', { strict }) : extractPrediction(c.text ?? '', { strict });
  return { gold, pred, equal: mathEqual(pred, gold, { strict }) };
}
