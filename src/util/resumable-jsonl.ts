// JSONL files that long jobs append to one finished item at a time, so that a killed job resumes where it
// stopped: on restart the job reads back what is there, skips those items and appends the rest. A kill in
// the middle of an append leaves a torn last line (no newline); it is cut off the file before anything
// else is appended, so every line stays one JSON object. A complete line that is not JSON did not come
// from a kill: it is reported, never skipped, so a damaged file is not silently rewritten around it.
import { appendFileSync, existsSync, readFileSync, truncateSync } from 'node:fs';

/** The records of `file` (none when it does not exist), after cutting off a torn last line. */
export function readResumableJsonl<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, end)));
  const out: T[] = [];
  text
    .slice(0, end)
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        throw new Error(
          `${file} line ${i + 1} is not JSON (and is not a torn last line from an interrupted append); ` +
            'remove or repair that line, or delete the file to start over',
        );
      }
    });
  return out;
}

/** `records` as JSONL text: one JSON object per line, each line ending in a newline. */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((r) => JSON.stringify(r) + '\n').join('');
}

/** Appends `records`, one JSON object per line, in one write. */
export function appendJsonl(file: string, records: readonly unknown[]): void {
  if (records.length) appendFileSync(file, toJsonl(records));
}
