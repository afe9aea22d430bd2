// Hugging Face tokenizers on the TypeScript side (src/engine/hftokenizer.ts) held to Python's `tokenizers`:
// the fixtures under test/fixtures/ (made by scripts/make-bpe-fixture.py) are a Qwen2-style byte-level BPE
// with merges (Split regex + ByteLevel, NFC, trained on GSM8K) and the tiny model's merge-free byte-level
// tokenizer, each with the ids and decodings Python gave for tricky strings and 200 held-out GSM8K lines.
// Then the token-boundary contract of the TRL trainer runs on the BPE one instead of being skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HFTokenizer, isHFTokenizerFile, loadHFTokenizer } from '../../src/engine/hftokenizer.js';
import { TrlTrainer } from '../../src/train/trl.js';
import { ROOT } from '../reference/env.js';

const FIX = path.join(ROOT, 'test', 'fixtures');
const BPE = path.join(FIX, 'hf-bpe');
const BYTES = path.join(FIX, 'hf-bytes');

interface Case {
  text: string;
  ids: number[];
  decoded: string;
}
const readJSON = <T>(f: string): T => JSON.parse(readFileSync(f, 'utf8')) as T;
const cases = (dir: string) => readJSON<{ tokenizers: string; cases: Case[] }>(path.join(dir, 'cases.json'));
const SPECIAL = /<\|(endoftext|im_start|im_end|pad)\|>/;

function oracle(dir: string, tok: HFTokenizer, label: string, atLeast: number, nfc: boolean) {
  const { cases: cs, tokenizers } = cases(dir);
  assert.ok(cs.length >= atLeast, `${label}: the fixture holds the GSM8K lines`);
  let roundTrips = 0;
  for (const [i, c] of cs.entries()) {
    const where = `${label} case ${i} ${JSON.stringify(c.text.slice(0, 60))} (Python tokenizers ${tokenizers})`;
    assert.deepEqual(tok.encode(c.text), c.ids, `ids: ${where}`);
    assert.equal(tok.decode(c.ids), c.decoded, `decode: ${where}`);
    if (!SPECIAL.test(c.text)) {
      // special tokens decode to nothing; everything else comes back as written (after NFC when normalised)
      assert.equal(tok.decode(tok.encode(c.text)), nfc ? c.text.normalize('NFC') : c.text, `round trip: ${where}`);
      roundTrips++;
    }
  }
  assert.ok(roundTrips >= cs.length - 3);
}

test('Qwen2-style BPE with merges: ids and decodings equal Python tokenizers on tricky strings and GSM8K lines', () => {
  const tok = loadHFTokenizer(BPE);
  const merges = readJSON<{ model: { merges: unknown[] } }>(path.join(BPE, 'tokenizer.json')).model.merges.length;
  assert.ok(merges > 500, 'the fixture really has merges');
  // specials after the BPE vocabulary, as in Qwen2.5
  assert.equal(tok.tokens.length, 1500);
  assert.equal(tok.eos, 1497);
  assert.deepEqual(tok.tokens.slice(1497), ['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
  oracle(BPE, tok, 'hf-bpe', 200, true);
  // merges do happen: common words are one token, digits are one token each (Qwen's \p{N} split)
  assert.equal(tok.encode(' the').length, 1);
  assert.deepEqual(
    tok.encode('2024').map((i) => tok.tokens[i]),
    ['2', '0', '2', '4'],
  );
  assert.deepEqual(
    tok.encode(' sold 48').map((i) => tok.tokens[i]),
    ['\u0120sold', '\u0120', '4', '8'],
  );
});

test('the merge-free byte-level tokenizer of the tiny model: one id per UTF-8 byte, as Python', () => {
  const tok = loadHFTokenizer(path.join(BYTES, 'tokenizer.json'));
  assert.equal(tok.tokens.length, 258);
  assert.equal(tok.eos, 256);
  oracle(BYTES, tok, 'hf-bytes', 60, false); // tiny.py sets no normaliser
  assert.deepEqual(tok.encode('A\u00e9'), [65, 0xc3, 0xa9]);
});

test('merges in the older "a b" string format (as Qwen2.5\'s tokenizer.json writes them) encode the same', () => {
  const json = readJSON<{ model: { merges: Array<[string, string]> } }>(path.join(BPE, 'tokenizer.json'));
  const cfg = readJSON<Record<string, unknown>>(path.join(BPE, 'tokenizer_config.json'));
  const legacy = new HFTokenizer(
    { ...json, model: { ...json.model, merges: json.model.merges.map(([a, b]) => `${a} ${b}`) } },
    cfg,
  );
  for (const c of cases(BPE).cases) assert.deepEqual(legacy.encode(c.text), c.ids);
});

test('encode adds no special tokens even when the post-processor would (BOS templates)', () => {
  const json = readJSON<Record<string, unknown>>(path.join(BPE, 'tokenizer.json'));
  const cfg = readJSON<Record<string, unknown>>(path.join(BPE, 'tokenizer_config.json'));
  const bos = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|im_start|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<|im_start|>': { id: '<|im_start|>', ids: [1498], tokens: ['<|im_start|>'] } },
  };
  const plain = new HFTokenizer(json, cfg);
  const templated = new HFTokenizer({ ...json, post_processor: bos }, cfg);
  assert.deepEqual(templated.encode('Step 1: 48/2 = 24'), plain.encode('Step 1: 48/2 = 24'));
  assert.ok(!templated.encode('Step 1: 48/2 = 24').includes(1498));
});

test(
  'decode: special tokens, ids past the vocabulary (padded embeddings) and empty lists give nothing; spaces ' +
    'are not cleaned up',
  () => {
    const tok = loadHFTokenizer(BPE);
    const ids = tok.encode('Step 1: 2 + 2 = 4 .');
    assert.equal(tok.decode([...ids, tok.eos]), 'Step 1: 2 + 2 = 4 .');
    assert.equal(tok.decode([1500, ...ids, 151_935, 5000]), 'Step 1: 2 + 2 = 4 .');
    assert.equal(tok.decode([]), '');
    assert.equal(tok.decode([tok.eos, 1498, 1501]), '');
    assert.equal(tok.decode(tok.encode("it 's done , isn 't it ?")), "it 's done , isn 't it ?");
    assert.throws(() => tok.decode([-1]), /-1 is not a token id/);
    // a character spread over several byte tokens decodes whole
    const e = tok.encode('\u6570');
    assert.ok(e.length > 1);
    assert.equal(tok.decode(e), '\u6570');
  },
);

test('EOS from tokenizer_config.json (string or {content}); clear errors when it or the files are wrong', () => {
  const json = readJSON<Record<string, unknown>>(path.join(BPE, 'tokenizer.json'));
  assert.equal(new HFTokenizer(json, { eos_token: '<|im_end|>' }).eos, 1499);
  assert.equal(new HFTokenizer(json, { eos_token: { content: '<|endoftext|>' } }).eos, 1497);
  assert.throws(() => new HFTokenizer(json, {}), /no eos_token.*add e\.g\. "eos_token"/);
  assert.throws(() => new HFTokenizer(json, { eos_token: '</s>' }), /eos token "<\/s>".*not in the vocabulary/);
  assert.throws(
    () => new HFTokenizer({ type: 'psrlm-char' } as never, { eos_token: 'x' }),
    /not a Hugging Face tokenizer\.json/,
  );
  const pre = json.pre_tokenizer as { pretokenizers: Array<Record<string, unknown>> };
  const merged = {
    ...json,
    pre_tokenizer: {
      ...pre,
      pretokenizers: [{ ...pre.pretokenizers[0], behavior: 'MergedWithPrevious' }, pre.pretokenizers[1]],
    },
  };
  assert.throws(
    () => new HFTokenizer(merged, { eos_token: '<|endoftext|>' }),
    /Split pre-tokenizer with behavior MergedWithPrevious.*refused/,
  );
  const unknown = { ...json, normalizer: { type: 'SomethingNew' } };
  assert.throws(
    () => new HFTokenizer(unknown, { eos_token: '<|endoftext|>' }),
    /@huggingface\/tokenizers cannot read this tokenizer \(Unknown Normalizer type: SomethingNew\)/,
  );
  const model = json.model as { vocab: Record<string, number> };
  const vocab = { ...model.vocab };
  delete vocab['\u0100'];
  // a vocabulary that misses a byte loads; text without the byte encodes as before, text with it is refused
  const full = new HFTokenizer(json, { eos_token: '<|endoftext|>' });
  const gap = new HFTokenizer({ ...json, model: { ...model, vocab } }, { eos_token: '<|endoftext|>' }, 'gap.json');
  assert.deepEqual(gap.encode('Step 1: 2+2 = 4\n'), full.encode('Step 1: 2+2 = 4\n'));
  assert.throws(
    () => gap.encode('abc\u0000def'),
    /gap\.json: the text holds byte 0x00 \(at character 3, in "abc\\u0000def"\), which this byte-level vocabulary has/,
  );

  const tmp = mkdtempSync(path.join(tmpdir(), 'psrlm-hftok-'));
  try {
    assert.throws(() => loadHFTokenizer(tmp), /no tokenizer\.json at/);
    writeFileSync(path.join(tmp, 'tokenizer.json'), JSON.stringify(json));
    assert.throws(() => loadHFTokenizer(tmp), /no tokenizer_config\.json next to/);
    writeFileSync(path.join(tmp, 'tokenizer_config.json'), '{oops');
    assert.throws(() => loadHFTokenizer(tmp), /tokenizer_config\.json: not JSON/);
    assert.ok(isHFTokenizerFile(path.join(tmp, 'tokenizer.json')));
    assert.ok(!isHFTokenizerFile(path.join(tmp, 'tokenizer_config.json')));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test(
  'the TRL token-boundary contract runs on a tokenizer with merges: ids written for Python to compare, EOS ' +
    'only after finals',
  async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'psrlm-hftok-trl-'));
    try {
      // a stand-in for `python -m psrlm_trl.train CONFIG`: keeps the contract file and reports success
      const fake = path.join(tmp, 'fake-train.mjs');
      writeFileSync(
        fake,
        `import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const cfg = JSON.parse(readFileSync(process.argv[4], 'utf8'));
copyFileSync(cfg.contract, ${JSON.stringify(path.join(tmp, 'seen.json'))});
mkdirSync(cfg.output, { recursive: true });
writeFileSync(cfg.output + '/manifest.json', '{}');
console.log(JSON.stringify({ event: 'done', steps: 1, tokens: 1, final_loss: 0, wall_s: 0 }));
writeFileSync(cfg.status, JSON.stringify({ code: 0, kind: 'ok', message: '' }));
`,
      );
      const work = path.join(tmp, 'work');
      mkdirSync(work);
      const trl = new TrlTrainer(BPE, work, {
        launcher: [process.execPath, fake],
        per_device_batch_size: 1,
        dtype: 'float32',
        lora: null,
        precompute_ref: false,
        max_length: null,
        gradient_checkpointing: false,
        contract_records: 16,
        env: {},
        adam_beta1: 0.9,
        adam_beta2: 0.95,
      });
      const pairs = [
        {
          prompt: 'Question: Natalia sold 48 clips.\nStep 1:',
          chosen: ' She sold 48/2 = 24 clips in May.\n',
          rejected: ' She sold 48*2 = 96.\n',
          final: false,
        },
        {
          prompt: 'Q\nStep 2:',
          chosen: ' The answer is \\boxed{72}.',
          rejected: ' The answer is \\boxed{70}.',
          chosen_final: true,
          rejected_final: true,
        },
      ];
      await trl.trainDPO(pairs, { lr: 1e-6, epochs: 1, batch_size: 1, seed: 0, beta: 0.1 });
      assert.deepEqual(trl.last?.contract, { checked: 2 });
      const tok = loadHFTokenizer(BPE);
      const seen = readJSON<{
        kind: string;
        records: Array<{ prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }>;
      }>(path.join(tmp, 'seen.json'));
      assert.equal(seen.kind, 'dpo');
      assert.deepEqual(seen.records[0]!.prompt_ids, tok.encode(pairs[0]!.prompt));
      assert.deepEqual(seen.records[0]!.chosen_ids, tok.encode(pairs[0]!.chosen));
      assert.ok(!seen.records[0]!.chosen_ids.includes(tok.eos) && !seen.records[0]!.rejected_ids.includes(tok.eos));
      assert.deepEqual(seen.records[1]!.chosen_ids, [...tok.encode(pairs[1]!.chosen), tok.eos]);
      assert.deepEqual(seen.records[1]!.rejected_ids, [...tok.encode(pairs[1]!.rejected), tok.eos]);
      assert.ok(seen.records[1]!.chosen_ids.length < pairs[1]!.chosen.length, 'merged tokens, not bytes');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);
