// `psrlm report <run dir> [--baseline <srlm run dir>] [--m0 <checkpoint dir>] [--out FILE]`: writes the
// run's self-contained report.html (src/run/report.ts), with the SRLM baseline drawn beside it when given.
import { parseArgs } from 'node:util';
import { writeReport } from '../run/report.js';

const USAGE = 'usage: psrlm report <run dir> [--baseline <srlm run dir>] [--m0 <checkpoint dir>] [--out FILE]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { baseline: { type: 'string' }, m0: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', default: false } },
  });
  if (values.help || positionals.length !== 1) { console.log(USAGE); return values.help ? 0 : 2; }
  try {
    console.log(writeReport(positionals[0]!, { baseline: values.baseline, m0: values.m0, out: values.out }));
  } catch (e) {
    console.error(`psrlm report: ${(e as Error).message}`);
    return 1;
  }
  return 0;
}
