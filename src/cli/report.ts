// `psrlm report <run dir> [--baseline <srlm run dir>] [--m0 <checkpoint dir>] [--out FILE]`: writes the
// run's self-contained report.html (src/run/report.ts), with the SRLM baseline drawn beside it when given.
import { writeReport } from '../run/report.js';
import { command } from './args.js';

export const run = command(
  {
    name: 'report',
    summary: "write a run's self-contained report.html (charts), optionally beside its SRLM baseline",
    positionals: [
      { name: 'run dir', type: 'path', exists: 'dir', required: true, help: 'a run directory (psrlm run --out)' },
    ],
    flags: {
      baseline: { type: 'path', exists: 'dir', metavar: 'DIR', help: 'the SRLM baseline run, drawn beside the run' },
      m0: { type: 'path', metavar: 'DIR', help: "M0's checkpoint directory (its accuracy from its manifest)" },
      out: { type: 'path', metavar: 'FILE', defaultHelp: '<run dir>/report.html', help: 'where the HTML goes' },
    },
  },
  async ({ values, positionals: [runDir] }) => {
    try {
      console.log(writeReport(runDir, { baseline: values.baseline, m0: values.m0, out: values.out }));
    } catch (e) {
      console.error(`psrlm report: ${(e as Error).message}`);
      return 1;
    }
    return 0;
  },
);
