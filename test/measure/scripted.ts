// A scripted engine for the evaluation tests: each prompt's one completion comes from a function, and
// every call's options are kept so a test can check how the report decoded (greedy, stop strings).
import type { Completion, Engine, GenerateOptions } from '../../src/engine/types.js';

export class Scripted implements Engine {
  readonly name = 'scripted';
  seen: GenerateOptions[] = [];
  constructor(private readonly answer: (prompt: string) => string) {}
  tokenize(text: string): number[] {
    return [...text].map((c) => c.charCodeAt(0));
  }
  detokenize(ids: number[]): string {
    return String.fromCharCode(...ids);
  }
  async logprob(): Promise<number[]> {
    return [];
  }
  async close(): Promise<void> {}
  async generate(prompts: string[], opts: GenerateOptions): Promise<Completion[][]> {
    this.seen.push(opts);
    return prompts.map((p) => [{ text: this.answer(p), tokens: [], logprobs: [], finish_reason: 'stop' as const }]);
  }
}
