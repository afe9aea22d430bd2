// Reading a Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) on the TypeScript side, so the
// pipeline tokenises with the same files as the trainer (TRL) and the server (vLLM): the token-boundary
// contract (src/train/trl.ts, trainer/psrlm_trl/data.py) compares the two sides' ids before training, and the
// remote engine needs ids to score (prompt_logprobs) and to append EOS.
//
// Written by hand because only a narrow kind is needed and no small, well-kept npm package covers it: byte-level
// BPE **without merges** (every UTF-8 byte is one token, written as GPT-2's byte-to-unicode character), which
// is what trainer/psrlm_trl/tiny.py builds and what transformers' Qwen2Tokenizer reconstructs. With no merges,
// encoding is NFC-normalise → UTF-8 bytes → one id per byte, whatever the pre-tokenizer's split. A tokenizer
// with merges (a real Qwen2.5 tokenizer) is refused with a message saying what to do instead.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** What the pipeline needs from any tokenizer (the psrlm-char Tokenizer has the same shape). */
export interface TextTokenizer {
  readonly tokens: string[];
  readonly eos: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
}

/** GPT-2's byte-to-unicode table: byte b appears in byte-level vocabularies as BYTE_CHARS[b]. */
export const BYTE_CHARS: string[] = (() => {
  const keep = new Set<number>();
  for (let b = 0x21; b <= 0x7e; b++) keep.add(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.add(b);
  for (let b = 0xae; b <= 0xff; b++) keep.add(b);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(keep.has(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++));
  return out;
})();

interface HFJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: unknown[] };
  normalizer?: { type?: string; normalizers?: Array<{ type?: string }> } | null;
  pre_tokenizer?: { type?: string; pretokenizers?: Array<{ type?: string }> } | null;
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
}

const types = (x: { type?: string; normalizers?: Array<{ type?: string }>; pretokenizers?: Array<{ type?: string }> } | null | undefined): string[] =>
  !x ? [] : [x.type ?? '', ...(x.normalizers ?? x.pretokenizers ?? []).map((y) => y.type ?? '')];

export class HFByteTokenizer implements TextTokenizer {
  readonly tokens: string[];
  readonly eos: number;
  private readonly byteId: number[];
  private readonly idByte: Int16Array;
  private readonly special: Set<number>;
  private readonly nfc: boolean;

  constructor(json: HFJson, eosToken: string, source = 'tokenizer.json') {
    const m = json.model;
    if (m?.type !== 'BPE' || !m.vocab) throw new Error(`${source}: model type ${m?.type ?? 'none'}; only byte-level BPE tokenizers are supported here`);
    if ((m.merges ?? []).length > 0) {
      throw new Error(`${source}: a BPE tokenizer with ${m.merges!.length} merges; the TypeScript side encodes only merge-free byte-level ` +
        'tokenizers (the tiny test model). For a real model, use the trainer\'s own tokenisation (trainer.contract: server) or a psrlm tokenizer.');
    }
    if (!types(json.pre_tokenizer).includes('ByteLevel')) throw new Error(`${source}: no ByteLevel pre-tokenizer; only byte-level BPE tokenizers are supported here`);
    const size = Math.max(...Object.values(m.vocab), ...(json.added_tokens ?? []).map((t) => t.id)) + 1;
    this.tokens = new Array<string>(size).fill('');
    for (const [t, id] of Object.entries(m.vocab)) this.tokens[id] = t;
    this.special = new Set<number>();
    for (const t of json.added_tokens ?? []) { this.tokens[t.id] = t.content; if (t.special) this.special.add(t.id); }
    this.byteId = BYTE_CHARS.map((c, b) => {
      const id = m.vocab![c];
      if (id === undefined) throw new Error(`${source}: byte ${b} (${JSON.stringify(c)}) is not in the vocabulary`);
      return id;
    });
    this.idByte = new Int16Array(size).fill(-1);
    this.byteId.forEach((id, b) => { this.idByte[id] = b; });
    const eos = (json.added_tokens ?? []).find((t) => t.content === eosToken)?.id ?? m.vocab[eosToken];
    if (eos === undefined) throw new Error(`${source}: the eos token ${JSON.stringify(eosToken)} is not in the vocabulary`);
    this.eos = eos;
    const norm = types(json.normalizer).filter((t) => t && t !== 'Sequence');
    if (norm.some((t) => t !== 'NFC')) throw new Error(`${source}: normalizer ${norm.join(', ')} is not supported (NFC or none)`);
    this.nfc = norm.includes('NFC');
  }

  encode(text: string): number[] {
    const bytes = Buffer.from(this.nfc ? text.normalize('NFC') : text, 'utf8');
    const out = new Array<number>(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = this.byteId[bytes[i]!]!;
    return out;
  }

  /** Special tokens decode to nothing (as psrlm's tokenizer and vLLM's skip_special_tokens do), and so do ids
   *  past the vocabulary: real models pad their embedding (Qwen2.5: 151,936 rows for 151,665 tokens), a
   *  server can sample a padding row, and it renders as nothing there too. */
  decode(ids: number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (this.special.has(id) || id >= this.tokens.length) continue;
      const b = this.idByte[id];
      if (b === undefined || b < 0) throw new Error(`tokenizer: id ${id} is neither a byte token nor special (vocabulary size ${this.tokens.length})`);
      bytes.push(b);
    }
    return Buffer.from(bytes).toString('utf8');
  }
}

/** A Hugging Face tokenizer directory (or its tokenizer.json): the eos token comes from tokenizer_config.json. */
export function loadHFTokenizer(p: string): HFByteTokenizer {
  const dir = p.endsWith('.json') ? path.dirname(p) : p;
  const file = p.endsWith('.json') ? p : path.join(dir, 'tokenizer.json');
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  if (!existsSync(file)) throw new Error(`no tokenizer.json at ${file}`);
  const cfg = existsSync(cfgFile) ? (JSON.parse(readFileSync(cfgFile, 'utf8')) as { eos_token?: unknown }) : {};
  const eos = typeof cfg.eos_token === 'string' ? cfg.eos_token : (cfg.eos_token as { content?: string } | undefined)?.content;
  if (!eos) throw new Error(`${cfgFile}: no eos_token (the pipeline needs it to end final steps)`);
  return new HFByteTokenizer(JSON.parse(readFileSync(file, 'utf8')) as HFJson, eos, file);
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
