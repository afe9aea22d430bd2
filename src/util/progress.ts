// Progress reporting for long work (pretraining, search, DPO, evaluation). On a terminal: one line
// redrawn in place with a bar, counts, rate and ETA, at most ~10 times a second. Elsewhere (logs, CI,
// pipes): a plain line every `logEvery` seconds and at the end, so logs stay readable and greppable.
// Written by hand: the npm bars either assume a TTY or pull in a dependency tree for a few dozen lines.

export interface ProgressOptions {
  /** Stream to write to (default stderr, so stdout stays clean for --json). */
  stream?: NodeJS.WriteStream;
  /** Unit shown after the rate, e.g. "tok" or "problems". */
  unit?: string;
  /** Seconds between plain lines when not on a terminal. */
  logEvery?: number;
  /** Force plain output (otherwise decided by stream.isTTY). */
  plain?: boolean;
  /** Print nothing (tests, --quiet). */
  silent?: boolean;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60),
    r = Math.round(s % 60);
  if (m < 60) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function formatRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)}M`;
  if (r >= 1e4) return `${(r / 1e3).toFixed(1)}k`;
  if (r >= 100) return r.toFixed(0);
  return r.toFixed(r >= 10 ? 1 : 2);
}

export class Progress {
  private done = 0;
  /** Units counted as done before this process started (a resumed job): shown, but not in the rate. */
  private base = 0;
  private readonly t0 = performance.now();
  private lastDraw = 0;
  private lastLog: number;
  private extra = '';
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private closed = false;

  constructor(
    readonly label: string,
    readonly total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = !opts.plain && !!this.stream.isTTY;
    this.lastLog = this.t0;
  }

  /** Advance by n units (or set `extra`, a short status such as the current loss). */
  tick(n = 1, extra?: string): void {
    this.done += n;
    if (extra !== undefined) this.extra = extra;
    const now = performance.now();
    if (this.tty && now - this.lastDraw > 100) {
      this.draw(now);
      this.lastDraw = now;
    } else if (!this.tty && now - this.lastLog > (this.opts.logEvery ?? 10) * 1000) {
      this.line(now);
      this.lastLog = now;
    }
  }

  /** The job resumes with `n` units already done (e.g. restored from a snapshot): the count starts there
   *  while the rate and ETA measure only the work done from now on. */
  resume(n: number): void {
    this.done = this.base = n;
  }

  status(extra: string): void {
    this.extra = extra;
  }

  /** Final line; returns elapsed seconds. */
  finish(extra?: string): number {
    if (extra !== undefined) this.extra = extra;
    const now = performance.now();
    if (!this.closed) {
      this.closed = true;
      if (this.tty) {
        this.draw(now);
        if (!this.opts.silent) this.stream.write('\n');
      } else this.line(now);
    }
    return (now - this.t0) / 1000;
  }

  private summary(now: number): string {
    const el = (now - this.t0) / 1000;
    const rate = el > 0 ? (this.done - this.base) / el : 0;
    const eta = rate > 0 && this.total > 0 ? (this.total - this.done) / rate : NaN;
    const unit = this.opts.unit ? ` ${this.opts.unit}` : '';
    const count = this.total > 0 ? `${this.done}/${this.total}` : `${this.done}`;
    const tail = this.done >= this.total && this.total > 0 ? `in ${formatDuration(el)}` : `ETA ${formatDuration(eta)}`;
    return `${count} ${formatRate(rate)}${unit}/s ${tail}${this.extra ? ' ' + this.extra : ''}`;
  }

  private draw(now: number): void {
    if (this.opts.silent) return;
    const width = 24;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    const fill = Math.round(frac * width);
    const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
    const cols = this.stream.columns ?? 100;
    const text = `${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${this.summary(now)}`;
    this.stream.write('\r' + text.slice(0, cols - 1).padEnd(Math.min(cols - 1, text.length)) + '\x1b[K');
  }

  private line(now: number): void {
    if (this.opts.silent) return;
    this.stream.write(`${this.label}: ${this.summary(now)}\n`);
  }
}
