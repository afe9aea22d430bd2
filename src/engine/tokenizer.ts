// Character-level tokenizer (docs/engine.md, "Tokenizer"), saved with every checkpoint. Characters suit
// the synthetic math world (digits stay digits, so arithmetic is visible to the model) and keep the
// vocabulary under a hundred tokens. Multi-character tokens are allowed (greedy longest match) so a
// vocabulary can add frequent words later without a format change. Special tokens never come from text.

export interface TokenizerJSON {
  type: 'psrlm-char';
  version: 1;
  tokens: string[];
  special: { eos: number; pad: number };
}

export class Tokenizer {
  readonly tokens: string[];
  readonly eos: number;
  readonly pad: number;
  private readonly index = new Map<string, number>();
  private readonly maxLen: number;

  constructor(json: TokenizerJSON) {
    if (json.type !== 'psrlm-char' || json.version !== 1) {
      throw new Error(`tokenizer: unsupported type/version ${json.type}/${json.version} (expected psrlm-char/1)`);
    }
    this.tokens = json.tokens.slice();
    this.eos = json.special.eos;
    this.pad = json.special.pad;
    const specials = new Set([this.eos, this.pad]);
    let maxLen = 1;
    this.tokens.forEach((t, i) => {
      if (specials.has(i)) return;
      if (t.length === 0) throw new Error(`tokenizer: token ${i} is empty`);
      if (this.index.has(t)) throw new Error(`tokenizer: token ${JSON.stringify(t)} appears twice`);
      this.index.set(t, i);
      maxLen = Math.max(maxLen, t.length);
    });
    this.maxLen = maxLen;
  }

  /** Printable ASCII, newline and tab, plus <|eos|> and <|pad|>: covers any plain-text math. */
  static ascii(): Tokenizer {
    const tokens = ['<|eos|>', '<|pad|>', '\n', '\t'];
    for (let c = 32; c < 127; c++) tokens.push(String.fromCharCode(c));
    return new Tokenizer({ type: 'psrlm-char', version: 1, tokens, special: { eos: 0, pad: 1 } });
  }

  /** Each id's text as it appears in decoded output: special tokens render as nothing. */
  get pieces(): string[] {
    return this.tokens.map((t, i) => (i === this.eos || i === this.pad ? '' : t));
  }

  /** Whether `text` can be encoded; the reason when it cannot. */
  check(text: string): string | null {
    try {
      this.encode(text);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  get vocabSize(): number {
    return this.tokens.length;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    let i = 0;
    while (i < text.length) {
      let id = -1,
        len = 0;
      for (let l = Math.min(this.maxLen, text.length - i); l >= 1; l--) {
        const t = this.index.get(text.slice(i, i + l));
        if (t !== undefined) {
          id = t;
          len = l;
          break;
        }
      }
      if (id < 0) {
        const ch = text.codePointAt(i)!;
        throw new Error(
          `tokenizer: character ${JSON.stringify(String.fromCodePoint(ch))} ` +
            `(U+${ch.toString(16).toUpperCase().padStart(4, '0')}) ` +
            `at offset ${i} is not in the vocabulary; the embedded model reads plain ASCII text only.`,
        );
      }
      out.push(id);
      i += len;
    }
    return out;
  }

  /** Special tokens decode to nothing. */
  decode(ids: number[]): string {
    let s = '';
    for (const id of ids) {
      if (id === this.eos || id === this.pad) continue;
      const t = this.tokens[id];
      if (t === undefined)
        throw new Error(`tokenizer: id ${id} is outside the vocabulary (size ${this.tokens.length})`);
      s += t;
    }
    return s;
  }

  toJSON(): TokenizerJSON {
    return { type: 'psrlm-char', version: 1, tokens: this.tokens.slice(), special: { eos: this.eos, pad: this.pad } };
  }
}
