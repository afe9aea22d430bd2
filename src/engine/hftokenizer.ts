// Reading a Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) on the TypeScript side, so the
// pipeline tokenises with the same files as the trainer (TRL) and the server (vLLM): the token-boundary
// contract (src/train/trl.ts, trainer/psrlm_trl/data.py) compares the two sides' ids before training, and the
// remote engine needs ids to score (prompt_logprobs) and to append EOS.
//
// Encoding and decoding are done by @huggingface/tokenizers (tokenizers.js), Hugging Face's own JavaScript port
// of its Rust `tokenizers`, with no dependencies: it reads tokenizer.json as written (normalisers,
// pre-tokenizers including Qwen2's Split regex, byte-level BPE with merges in either merge format), so real
// models' tokenizers (Qwen2.5's) encode here exactly as in Python. test/engine/hftokenizer-bpe.test.ts holds
// it to Python's ids (fixtures made by scripts/make-bpe-fixture.py), for a Qwen2-style BPE with merges and for
// the merge-free byte-level tokenizer of the tiny test model (trainer/psrlm_trl/tiny.py).
//
// This module pins down what the library leaves open, as the pipeline needs it:
// - encode adds no special tokens (the library's default adds them: BOS, templates); the pipeline adds EOS
//   itself, only where a solution ends (trainer/psrlm_trl/data.py encodes with add_special_tokens=False).
// - decode renders special tokens and ids past the vocabulary as nothing (real models pad their embedding:
//   Qwen2.5 has 151,936 rows for 151,665 tokens, and a server can sample a padding row), and never "cleans up"
//   spaces (the text is exactly what the tokens spell, as the servers' incremental detokenisers give it).
// - EOS is tokenizer_config.json's eos_token, looked up among the added tokens, then the vocabulary.
// - What the library would silently get wrong is refused with the reason: a Split pre-tokenizer behaviour
//   other than Isolated / Removed, and text holding a byte that a byte-level vocabulary has no token for.
//   Real vocabularies miss bytes their training text never held (SmolLM2's misses 21: six control
//   characters, and lead bytes of UTF-8 that no text in use has), and both libraries would drop such a byte
//   without a word; the tokenizer loads, and only text that holds one is refused.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

/** What the pipeline needs from any tokenizer (the psrlm-char Tokenizer has the same shape). */
export interface TextTokenizer {
  readonly tokens: string[];
  readonly eos: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
}

interface Component {
  type?: string;
  [k: string]: unknown;
}

interface HFJson {
  model?: { type?: string; vocab?: unknown; merges?: unknown[] } | null;
  normalizer?: Component | null;
  pre_tokenizer?: Component | null;
  post_processor?: Component | null;
  decoder?: Component | null;
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
}

/** tokenizer_config.json, the fields read here (the rest goes to the library as is). */
export interface HFConfig {
  eos_token?: string | { content?: string } | null;
  [k: string]: unknown;
}

/** Every component in a (possibly nested Sequence) normaliser / pre-tokenizer / decoder tree. */
function components(x: Component | null | undefined): Component[] {
  if (!x || typeof x !== 'object') return [];
  const kids = [x.normalizers, x.pretokenizers, x.decoders, x.processors].find(Array.isArray) as
    Component[] | undefined;
  return [x, ...(kids ?? []).flatMap(components)];
}

/** GPT-2's byte-to-unicode table: byte b appears in byte-level vocabularies as BYTE_CHARS[b]. */
export const BYTE_CHARS: string[] = (() => {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(keep(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++));
  return out;
})();

const UTF8 = new TextEncoder();

const FIX = "give the model's own tokenizer.json and tokenizer_config.json (its Hugging Face checkpoint directory)";

export class HFTokenizer implements TextTokenizer {
  readonly tokens: string[];
  readonly eos: number;
  private readonly tok: Tokenizer;
  /** Ids that decode to something: in the vocabulary and not special. */
  private readonly shown: Uint8Array;
  /** Bytes a byte-level vocabulary has no token for (1 = missing), or null when it has them all. */
  private readonly missingBytes: Uint8Array | null = null;

  constructor(
    json: HFJson,
    config: HFConfig,
    readonly source = 'tokenizer.json',
  ) {
    if (!json || typeof json !== 'object' || !json.model || typeof json.model !== 'object') {
      throw new Error(`${source}: not a Hugging Face tokenizer.json (no "model" object); ${FIX}`);
    }
    for (const c of components(json.pre_tokenizer)) {
      const b = typeof c.behavior === 'string' ? c.behavior : 'Isolated';
      if (c.type === 'Split' && !/^(isolated|removed)$/i.test(b)) {
        throw new Error(
          `${source}: a Split pre-tokenizer with behavior ${b}, which @huggingface/tokenizers does not reproduce ` +
            "(only Isolated and Removed); encoding here would drift from Python's, so it is refused",
        );
      }
    }
    const full = {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      ...json,
      added_tokens: json.added_tokens ?? [],
    };
    try {
      this.tok = new Tokenizer(full, config ?? {});
    } catch (e) {
      throw new Error(
        `${source}: @huggingface/tokenizers cannot read this tokenizer (${(e as Error).message}); ${FIX}`,
      );
    }

    const vocab = this.tok.get_vocab(true);
    let size = 0;
    for (const [t, id] of vocab) if (typeof t === 'string' && Number.isInteger(id)) size = Math.max(size, id + 1);
    if (size === 0) throw new Error(`${source}: the vocabulary is empty; ${FIX}`);
    this.tokens = new Array<string>(size).fill('');
    this.shown = new Uint8Array(size);
    for (const [t, id] of vocab)
      if (typeof t === 'string' && Number.isInteger(id)) {
        this.tokens[id] = t;
        this.shown[id] = 1;
      }
    for (const t of json.added_tokens ?? []) if (t.special) this.shown[t.id] = 0;

    if ([json.pre_tokenizer, json.decoder].some((c) => components(c).some((x) => x.type === 'ByteLevel'))) {
      // a byte with no token of its own would be dropped without a word by the library: remember which
      const missing = BYTE_CHARS.map((c, b) => (this.tok.token_to_id(c) === undefined ? b : -1)).filter((b) => b >= 0);
      if (missing.length) {
        this.missingBytes = new Uint8Array(256);
        for (const b of missing) this.missingBytes[b] = 1;
      }
    }

    const eosToken = typeof config?.eos_token === 'string' ? config.eos_token : config?.eos_token?.content;
    if (!eosToken) {
      throw new Error(
        `${source}: tokenizer_config.json has no eos_token (the pipeline needs it to end final steps); ` +
          'add e.g. "eos_token": "<|endoftext|>" as the model\'s own tokenizer_config.json has it',
      );
    }
    const eos = (json.added_tokens ?? []).find((t) => t.content === eosToken)?.id ?? this.tok.token_to_id(eosToken);
    if (eos === undefined)
      throw new Error(
        `${source}: the eos token ${JSON.stringify(eosToken)} (tokenizer_config.json) is not in the vocabulary`,
      );
    this.eos = eos;
  }

  /** Token ids of `text`, no special tokens added (no BOS, no EOS, no template). */
  encode(text: string): number[] {
    if (this.missingBytes) this.refuseMissingBytes(text);
    const ids = this.tok.encode(text, { add_special_tokens: false }).ids;
    for (const id of ids) {
      if (id === undefined || id === null)
        throw new Error(
          `${this.source}: a piece of ${JSON.stringify(text.slice(0, 80))} has no token and the vocabulary no ` +
            `unk token`,
        );
    }
    return ids;
  }

  private refuseMissingBytes(text: string): void {
    const miss = this.missingBytes!;
    const bytes = UTF8.encode(text);
    for (let i = 0; i < bytes.length; i++) {
      if (!miss[bytes[i]!]) continue;
      const at = new TextDecoder().decode(bytes.subarray(0, i)).length; // only on the way to an error
      throw new Error(
        `${this.source}: the text holds byte 0x${bytes[i]!.toString(16).padStart(2, '0')} (at character ${at}, in ` +
          `${JSON.stringify(text.slice(Math.max(0, at - 20), at + 20))}), which this byte-level vocabulary has no ` +
          'token for: the model never saw it, and encoding would drop it. Remove or replace that character.',
      );
    }
  }

  /** Special tokens decode to nothing (as psrlm's tokenizer and vLLM's skip_special_tokens do), and so do ids
   *  past the vocabulary: real models pad their embedding (Qwen2.5: 151,936 rows for 151,665 tokens), a
   *  server can sample a padding row, and it renders as nothing there too. */
  decode(ids: number[]): string {
    const keep: number[] = [];
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`tokenizer: ${String(id)} is not a token id`);
      if (id < this.shown.length && this.shown[id]) keep.push(id);
    }
    return this.decodeAll(keep);
  }

  private decodeAll(ids: number[]): string {
    // the library refuses an empty list
    return ids.length === 0
      ? ''
      : this.tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }
}

/** A Hugging Face tokenizer directory (or its tokenizer.json): the eos token comes from tokenizer_config.json. */
export function loadHFTokenizer(p: string): HFTokenizer {
  const dir = p.endsWith('.json') ? path.dirname(p) : p;
  const file = p.endsWith('.json') ? p : path.join(dir, 'tokenizer.json');
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  if (!existsSync(file)) throw new Error(`no tokenizer.json at ${file}; ${FIX}`);
  if (!existsSync(cfgFile))
    throw new Error(
      `no tokenizer_config.json next to ${file} (its eos_token says which token ends a solution); copy the model's own`,
    );
  const read = (f: string): unknown => {
    try {
      return JSON.parse(readFileSync(f, 'utf8'));
    } catch (e) {
      throw new Error(`${f}: not JSON (${(e as Error).message})`);
    }
  };
  const cfg = read(cfgFile);
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error(`${cfgFile}: not a JSON object`);
  return new HFTokenizer(read(file) as HFJson, cfg as HFConfig, file);
}

/** True when the file is a Hugging Face tokenizer.json (rather than psrlm's own format). */
export function isHFTokenizerFile(file: string): boolean {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { model?: unknown; type?: unknown };
    return typeof j.model === 'object' && j.type !== 'psrlm-char';
  } catch {
    return false;
  }
}
