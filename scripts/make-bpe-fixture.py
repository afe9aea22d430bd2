"""Builds the Hugging Face tokenizer fixtures under test/fixtures/ and their reference ids (the oracle that
test/engine/hftokenizer-bpe.test.ts compares src/engine/hftokenizer.ts with).

    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tokenizers==0.23.3
    /tmp/tokvenv/bin/python scripts/make-bpe-fixture.py        # from the repository root; needs only `tokenizers`

- test/fixtures/hf-bpe/: a byte-level BPE **with merges** built the way Qwen2 / Qwen2.5's tokenizer.json is
  (NFC normaliser; Split on Qwen2's regex, Isolated; ByteLevel(add_prefix_space=False, use_regex=False)
  pre-tokenizer, decoder and post-processor; `<|endoftext|>` `<|im_start|>` `<|im_end|>` special after the
  BPE vocabulary), its merges trained on the GSM8K training questions and answers
  (data/train/gsm8k_train.jsonl, all but the last 200 records) to a vocabulary of 1500, on space-separated
  chunks (see qwen2_style). tokenizer_config.json is Qwen2.5's, less the chat template.
- test/fixtures/hf-bytes/: the merge-free byte-level tokenizer of trainer/psrlm_trl/tiny.py (same function,
  without transformers), so the tiny model's kind stays covered.
- cases.json in each: the reference `ids` of Python's `tokenizers` (encode with add_special_tokens=False, as
  trainer/psrlm_trl/data.py does) and `decoded` (decode with skip_special_tokens=True) for a set of tricky
  strings and for 200 lines of held-out GSM8K text (the last 200 records, never trained on).

Deterministic for a given `tokenizers` version: rerunning it rewrites the same files.
"""
from __future__ import annotations

import json
import os
import sys

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GSM8K = os.path.join(ROOT, "data", "train", "gsm8k_train.jsonl")
OUT = os.path.join(ROOT, "test", "fixtures")

# Qwen2's pre-tokenizer pattern, as in Qwen/Qwen2.5-Math-7B's tokenizer.json
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
HELD_OUT = 200
VOCAB = 1500

TRICKY = [
    "",
    "12345678901234567890",
    "3.14159265358979",
    "1,000,000 and $1,234.56 or 0.000001",
    "\\boxed{72}",
    "The answer is $\\boxed{\\frac{3}{4}}$.",
    "\\[ x^2 + y^2 = z^2 \\]",
    "$\\sqrt{2}\\cdot\\pi \\approx 4.4429$",
    "\\begin{align*} a &= b \\\\ c &= d^{10} \\end{align*}",
    "<<48/2=24>>24 clips\n#### 72",
    "line1\nline2\n\nline3\n",
    "windows\r\nline endings\r\n",
    "\n\n\n",
    "a  b   c    d",
    "double  spaces. Then  more",
    "trailing spaces   ",
    " leading space",
    "   ",
    "\t\tindented\twith tabs\t",
    "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e",
    "e\u0301 combining accent (NFC turns it into \u00e9)",
    "\u6570\u5b66",
    "\u6c42\u89e3\u65b9\u7a0b\uff1ax\u00b2 + 2x = 3\u3002",
    "\u03a9\u03bc\u03ad\u03b3\u03b1 \u041f\u0440\u0438\u0432\u0435\u0442 \u0645\u0631\u062d\u0628\u0627",
    "emoji \U0001f600\U0001f389 and a family \U0001f468\u200d\U0001f469\u200d\U0001f467!",
    "Step 1: Natalia sold 48/2 = 24 clips in May.\nStep 2: 48 + 24 = 72.\nStep 3: The answer is \\boxed{72}.",
    "Step 1:",
    "Step 10: ",
    "\nStep ",
    "it's IT'S It'S they're we've I'm you'll he'd can't",
    "THAT'STHE END, YOU'LLSEE WE'REDONE. It'Sok",
    "Why?\nBecause.\n\nSo! \n \n  \nend",
    "Question: Weng earns $12 an hour. How much did she earn?\nAnswer:",
    "end<|endoftext|>next",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "x_{i+1} = x_i - f(x_i)/f'(x_i)",
    "100%... wait!!! (really?) [yes] {no} ~tilde~ `code` @at #hash",
    "\u00a0non-breaking\u00a0spaces\u2003and em space",
    "\ufeffBOM at the start",
    "\u0000nul and \u007fdel",
]


def gsm8k() -> list[dict[str, str]]:
    with open(GSM8K, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def qwen2_style(train_texts: list[str]) -> Tokenizer:
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False, ignore_merges=False))
    tok.normalizer = normalizers.NFC()
    # Trained on space-separated chunks, so merges cross the boundaries Qwen2's regex draws (digits,
    # punctuation after words, contractions, newlines); the regex is installed after training. A fixture
    # trained with the regex itself has no merge across its boundaries and so hides most regex mistakes.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r" ?[^ ]+| +"), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB - len(SPECIALS), min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(train_texts, trainer=trainer)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.add_special_tokens(SPECIALS)  # after the BPE vocabulary, as in Qwen2.5 (151643-151645)
    # the decoder's options as Qwen2.5's tokenizer.json has them (Python's ByteLevel decoder takes none)
    j = json.loads(tok.to_str())
    j["decoder"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    return Tokenizer.from_str(json.dumps(j))


def tiny_bytes() -> Tokenizer:
    """trainer/psrlm_trl/tiny.py's tokenizer (build_tokenizer without the transformers wrapper)."""
    sys.path.insert(0, os.path.join(ROOT, "trainer"))
    from psrlm_trl.tiny import byte_chars  # imports nothing heavy at module level

    specials = ["<|endoftext|>", "<|pad|>"]
    vocab = {t: i for i, t in enumerate(byte_chars() + specials)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(specials)
    return tok


def config(tok: Tokenizer, specials: list[str], pad: str) -> dict:
    return {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(tok.token_to_id(s)): {
                "content": s, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True,
            } for s in specials
        },
        "bos_token": None,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|endoftext|>",
        "errors": "replace",
        "model_max_length": 4096,
        "pad_token": pad,
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


def cases(tok: Tokenizer, texts: list[str]) -> list[dict]:
    out = []
    for t in texts:
        ids = tok.encode(t, add_special_tokens=False).ids
        out.append({"text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=True)})
    return out


def write(name: str, tok: Tokenizer, cfg: dict, texts: list[str]) -> None:
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")
    import tokenizers

    with open(os.path.join(d, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/make-bpe-fixture.py", "tokenizers": tokenizers.__version__, "cases": cases(tok, texts)},
                  f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    sizes = {x: os.path.getsize(os.path.join(d, x)) for x in sorted(os.listdir(d))}
    print(f"{d}: {sizes}")


def main() -> None:
    rows = gsm8k()
    train, held = rows[:-HELD_OUT], rows[-HELD_OUT:]
    # plus the tricky strings, repeated, so that merges exist for their pieces too (uppercase contractions,
    # LaTeX, CJK, runs of spaces): then the ids depend on every part of the regex
    plain = [t for t in TRICKY if not any(x in t for x in SPECIALS)]  # special tokens are added, not learnt
    texts = [r["question"] + "\n" + r["answer"] for r in train] + plain * 200
    bpe = qwen2_style(texts)
    # 200 held-out lines, each with its newline when the source had one (questions and answer lines)
    lines: list[str] = []
    for r in held:
        for part in (r["question"], r["answer"]):
            lines += part.splitlines(keepends=True)
    lines = lines[:200]
    n_merges = len(json.loads(bpe.to_str())["model"]["merges"])
    print(f"hf-bpe: vocab {bpe.get_vocab_size()}, merges {n_merges}")
    write("hf-bpe", bpe, config(bpe, SPECIALS, "<|endoftext|>"), TRICKY + lines)
    tiny = tiny_bytes()
    write("hf-bytes", tiny, config(tiny, ["<|endoftext|>", "<|pad|>"], "<|pad|>"), TRICKY + lines[:40])


if __name__ == "__main__":
    main()
