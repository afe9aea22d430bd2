// A scripted Engine for oracle tests of the search: candidate steps come from a per-prompt queue the test
// writes, and the judge's verdicts from a score per step body the test controls (higher score wins; equal
// scores answer [[A]], so a pair of equals splits 1–1 over both orders). Every call is logged.
import type { Completion, Engine, GenerateOptions, ScoreRequest } from '../../src/engine/types.js';

export interface FakeCall {
  kind: 'sample' | 'judge';
  prompts: string[];
  opts: GenerateOptions;
}

export class FakeEngine implements Engine {
  readonly name = 'fake';
  readonly calls: FakeCall[] = [];
  /** Per step prompt, the candidate lists of successive calls (bodies or {text, finish}). */
  private readonly queues = new Map<
    string,
    Array<Array<string | { text: string; finish: Completion['finish_reason'] }>>
  >();

  constructor(readonly scores: Record<string, number> = {}) {}

  /** Candidates (bodies) for the next sampling of `prompt`; `Step l: ` and "\n" are added unless given. */
  script(prompt: string, ...lists: Array<Array<string | { text: string; finish: Completion['finish_reason'] }>>): this {
    const q = this.queues.get(prompt) ?? [];
    q.push(...lists);
    this.queues.set(prompt, q);
    return this;
  }

  tokenize(text: string): number[] {
    return [...text].map((c) => c.charCodeAt(0));
  }
  detokenize(ids: number[]): string {
    return String.fromCharCode(...ids);
  }
  async logprob(r: ScoreRequest[]): Promise<number[]> {
    return r.map(() => 0);
  }
  async close(): Promise<void> {}

  async generate(prompts: string[], opts: GenerateOptions): Promise<Completion[][]> {
    const sampling = (opts.stop ?? []).includes('\n');
    this.calls.push({ kind: sampling ? 'sample' : 'judge', prompts, opts });
    if (sampling) {
      return prompts.map((p) => {
        const q = this.queues.get(p);
        const list = q?.shift();
        if (!list) throw new Error(`fake engine: no candidates scripted for prompt ${JSON.stringify(p)}`);
        const l = (p.match(/^Step \d+: /gm) ?? []).length + 1;
        if (list.length !== (opts.n ?? 1))
          throw new Error(`fake engine: scripted ${list.length} candidates, asked for ${opts.n}`);
        return list.map((c) => (typeof c === 'string' ? done(`Step ${l}: ${c}\n`, 'stop') : done(c.text, c.finish)));
      });
    }
    return prompts.map((p) => {
      const m = /\nA: (.*)\nB: (.*)\nCheck:\n$/.exec(p);
      if (!m) throw new Error(`fake engine: not a judge prompt: ${JSON.stringify(p)}`);
      const a = this.scores[m[1]!] ?? 0,
        b = this.scores[m[2]!] ?? 0;
      return [done(b > a ? 'A: x\nB: ok\n[[B]]' : 'A: ok\nB: x\n[[A]]', 'eos')];
    });
  }
}

function done(text: string, finish_reason: Completion['finish_reason']): Completion {
  return { text, tokens: [], logprobs: [], finish_reason };
}
