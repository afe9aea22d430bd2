// The remote engine's content-addressed call cache: the key of a call is the SHA-256 of its endpoint path
// and its request body in canonical JSON (keys sorted), and the value is the engine-level result. The
// body holds everything that decides the answer (model, prompt, every sampling parameter, the seed), and
// nothing about where it went, so a retried call, a resumed run or another endpoint serving the same
// model all find it. A call is paid for at most once per cache file.
//
// Storage: one append-only file, a line per call, `<64 hex key>\t<json>\n`. A result is appended before
// the engine hands it to its caller, so whatever a run has seen is on disk (in the page cache, which
// survives the process being killed; `fsync: true` also survives power loss). Only the key index lives in
// memory (key → offset, length); values are read back on a hit, so a large cache costs little memory.
// A process killed mid-append leaves a torn last line; opening the file cuts it off before appending.
// One writer per file at a time.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';

/** JSON with object keys sorted at every level, so equal bodies give equal text. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The cache key of a call: SHA-256 of the path and the canonical body. */
export function callKey(urlPath: string, body: unknown): string {
  return createHash('sha256').update(urlPath).update('\n').update(canonicalJSON(body)).digest('hex');
}

const KEY_LEN = 64;
const CHUNK = 1 << 22;

export class CallCache {
  private readonly fd: number;
  private readonly index = new Map<string, [number, number]>();
  private end = 0;
  /** Lines that could not be read back (a damaged file); they count as misses. */
  damaged = 0;

  private constructor(
    readonly file: string,
    private readonly fsync: boolean,
  ) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.fd = openSync(file, 'a+');
    this.scan();
  }

  static open(file: string, opts: { fsync?: boolean } = {}): CallCache {
    return new CallCache(file, opts.fsync ?? false);
  }

  get size(): number {
    return this.index.size;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  get(key: string): unknown {
    const at = this.index.get(key);
    if (!at) return undefined;
    const buf = Buffer.alloc(at[1]);
    readSync(this.fd, buf, 0, at[1], at[0]);
    try {
      return JSON.parse(buf.toString('utf8'));
    } catch {
      this.damaged++;
      this.index.delete(key);
      return undefined;
    }
  }

  /** Appends a result; a key already present keeps its first value. */
  put(key: string, value: unknown): void {
    if (this.index.has(key)) return;
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`call cache: bad key '${key}'`);
    const json = Buffer.from(JSON.stringify(value), 'utf8');
    const line = Buffer.concat([Buffer.from(key + '\t', 'ascii'), json, Buffer.from('\n')]);
    let off = 0;
    while (off < line.length) off += writeSync(this.fd, line, off, line.length - off);
    if (this.fsync) fsyncSync(this.fd);
    this.index.set(key, [this.end + KEY_LEN + 1, json.length]);
    this.end += line.length;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Builds the index; cuts a torn last line (no newline) so the next append starts clean. */
  private scan(): void {
    const size = fstatSync(this.fd).size;
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
    let pos = 0;
    let carry = Buffer.alloc(0);
    let lineStart = 0;
    while (pos < size) {
      const got = readSync(this.fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (got <= 0) break;
      const data = carry.length ? Buffer.concat([carry, buf.subarray(0, got)]) : buf.subarray(0, got);
      const base = pos - carry.length;
      let from = 0;
      for (let nl = data.indexOf(10, from); nl >= 0; nl = data.indexOf(10, from)) {
        const len = nl - from;
        if (len > KEY_LEN + 1 && data[from + KEY_LEN] === 9) {
          const key = data.toString('ascii', from, from + KEY_LEN);
          if (!this.index.has(key)) this.index.set(key, [base + from + KEY_LEN + 1, len - KEY_LEN - 1]);
        } else if (len > 0) this.damaged++;
        from = nl + 1;
        lineStart = base + from;
      }
      carry = Buffer.from(data.subarray(from));
      pos += got;
    }
    if (lineStart < size) ftruncateSync(this.fd, lineStart);
    this.end = lineStart;
  }
}
