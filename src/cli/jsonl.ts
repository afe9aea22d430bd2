// Line-by-line JSONL over stdin/stdout for the grade and extract commands: each input line is written back
// with one field added, in input order, so other tools can pipe through psrlm without buffering a file.
import { createInterface } from 'node:readline';

export async function* readJsonl(
  input: NodeJS.ReadableStream,
): AsyncGenerator<{ line: number; obj: Record<string, unknown> }> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (!text.trim()) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      throw new Error(`stdin line ${line}: not valid JSON (each line must be one JSON object)`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new Error(
        `stdin line ${line}: expected a JSON object, got ${Array.isArray(obj) ? 'an array' : typeof obj}`,
      );
    }
    yield { line, obj: obj as Record<string, unknown> };
  }
}

export function requireString(obj: Record<string, unknown>, field: string, line: number): string {
  const v = obj[field];
  if (typeof v !== 'string') {
    throw new Error(
      `stdin line ${line}: field '${field}' must be a string (got ${v === undefined ? 'nothing' : typeof v})`,
    );
  }
  return v;
}

/** Write and wait for the stream to drain when it asks (large outputs piped into slow readers). */
export async function writeLine(out: NodeJS.WritableStream, s: string): Promise<void> {
  if (!out.write(s + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
}
