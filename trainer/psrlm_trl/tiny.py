"""A tiny model of a real architecture, made here with no downloads: Qwen2 (a few layers, head size 64, random
init) and a character-level tokenizer built locally, both in Hugging Face format. It lets the whole real-model
path (TRL training, vLLM serving, the pipeline between them) run on a CPU in minutes; its outputs mean nothing.

    python -m psrlm_trl.tiny OUT_DIR [--layers 2] [--hidden 128] [--heads 2] [--ctx 1024] [--seed 0]

Head size is 64 because vLLM's CPU attention rejects small head sizes (16 fails). The tokenizer is Qwen2's
kind, byte-level BPE, with no merges: every UTF-8 byte is one token (ids 0-255 in byte order, each written
as GPT-2's byte-to-unicode character), then `<|endoftext|>` (EOS, 256) and `<|pad|>` (257). Byte-level because
transformers loads any Qwen2 checkpoint's tokenizer through Qwen2Tokenizer, which rebuilds the byte-level
pre-tokenizer and decoder whatever tokenizer.json says; no merges so that the vocabulary (and so the
embedding) stays tiny and any text encodes. The TypeScript side encodes with the same file
(src/engine/hftokenizer.ts, which reads BPE with merges too), and the token-boundary contract checks it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil


def byte_chars() -> list[str]:
    """GPT-2's byte-to-unicode table: byte b is written as chars[b] in a byte-level vocabulary."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|pad|>"]
    vocab = {t: i for i, t in enumerate(byte_chars() + specials)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(specials)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|pad|>",
        model_max_length=1 << 30, clean_up_tokenization_spaces=False,
    )


def build(out: str, layers: int = 2, hidden: int = 128, heads: int = 2, ctx: int = 1024, seed: int = 0) -> dict:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    if hidden % heads or hidden // heads != 64:
        raise SystemExit(f"tiny: head size must be 64 (vLLM's CPU attention rejects small heads); got hidden {hidden} / heads {heads}")
    tok = build_tokenizer()
    cfg = Qwen2Config(
        vocab_size=len(tok), hidden_size=hidden,  # vocab exactly the tokenizer: no padding rows to sample
        intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=ctx,
        tie_word_embeddings=True, rope_theta=10000.0, rms_norm_eps=1e-6,
        bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        torch_dtype="float32",
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(cfg)
    tmp = out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    # no generation_config.json defaults beyond the token ids: requests state every sampling parameter anyway
    manifest = {
        "kind": "psrlm-tiny", "arch": "Qwen2ForCausalLM", "layers": layers, "hidden": hidden, "heads": heads,
        "head_size": hidden // heads, "ctx": ctx, "seed": seed,
        "parameters": sum(p.numel() for p in model.parameters()),
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
    }
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.replace(tmp, out)
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(json.dumps(build(a.out, a.layers, a.hidden, a.heads, a.ctx, a.seed)))


if __name__ == "__main__":
    main()
