// Comparing two run directories file by file (the resume tests: an interrupted and resumed run must end
// with the same artifacts as an uninterrupted one).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Wall times and engine token counts depend on how a run was batched and resumed, and report.html shows
 *  them: these are left out of the byte-for-byte match. */
export const measuredOnly = (f: string) => f !== 'timings.json' && f !== 'engine_tokens.json' && f !== 'report.html';

/** Every file under `dir`, relative, sorted. */
export function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel))
    .flatMap((f) => {
      const r = path.join(rel, f);
      return statSync(path.join(dir, r)).isDirectory() ? files(dir, r) : [r];
    })
    .sort();
}
