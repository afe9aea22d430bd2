"""IFT replay during step-wise DPO (the config's `replay`; the pipeline's `dpo.replay`, off unless set).

Not the paper's method: an option that adds to every DPO loss the SFT loss of a few instruction-tuning records
drawn from a pool (those the starting model was SFT-trained on, or a file), so that DPO on the model's own
steps does not wear away the solving skill SFT gave it. The objective is the embedded engine's (src/engine/
trainer.ts): loss = DPO loss (+ its NLL term) + weight * (sum of -log p over the replay records' completion
tokens) / (those tokens). Here the term is taken per micro-batch, as TRL takes its own "sft" term: a micro-batch
of b pairs draws max(1, round(per_pair * b)) records (at most the pool), without replacement, from a generator
seeded by (seed, rank, call) alone, so a run draws the same records every time it is repeated.

Scoring goes through the same forward as TRL's DPO loss (the fused LM head with labels -100 outside
completions), so both terms see the same log-probabilities.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

from .data import DataError, Encoder, encode_sft, read_jsonl


def check_config(replay: Any, path: str, task: str) -> None:
    """{} (off) or {data, weight, per_pair}; errors name the key."""
    if replay in ({}, None):
        return
    if not isinstance(replay, dict):
        raise DataError(f"{path}: replay must be {{}} or {{data, weight, per_pair}}, got {replay!r}")
    if task != "dpo":
        raise DataError(f"{path}: replay is for task dpo only")
    unknown = sorted(set(replay) - {"data", "weight", "per_pair"})
    if unknown:
        raise DataError(f"{path}: replay: unknown key(s) {', '.join(unknown)}; known: data, weight, per_pair")
    if not isinstance(replay.get("data"), str) or not replay["data"]:
        raise DataError(f"{path}: replay.data must be the path of a JSONL of SFT records")
    for k in ("weight", "per_pair"):
        v = replay.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise DataError(f"{path}: replay.{k} must be a number above 0, got {v!r}")


def draw_count(per_pair: float, pairs: int, pool: int) -> int:
    """Records drawn for `pairs` pairs: max(1, round(per_pair * pairs)), at most the pool."""
    # round half away from zero, as the TypeScript side's Math.round does for positive numbers
    return min(pool, max(1, int(per_pair * pairs + 0.5)))


class Replay:
    """The encoded pool and the per-call draw."""

    def __init__(self, enc: Encoder, cfg: dict[str, Any], seed: int):
        rows = read_jsonl(cfg["data"])
        self.records = encode_sft(enc, rows, cfg["data"])
        self.weight = float(cfg["weight"])
        self.per_pair = float(cfg["per_pair"])
        self.seed = int(seed)
        self.rank = int(os.environ.get("RANK", "0"))
        self.pad = enc.tokenizer.pad_token_id if enc.tokenizer.pad_token_id is not None else enc.eos
        self.calls = 0

    def draw(self, pairs: int) -> list[int]:
        """The next call's record indices (distinct)."""
        import torch

        h = hashlib.sha256(f"psrlm-replay:{self.seed}:{self.rank}:{self.calls}".encode()).digest()
        self.calls += 1
        g = torch.Generator().manual_seed(int.from_bytes(h[:8], "little") & ((1 << 63) - 1))
        k = draw_count(self.per_pair, pairs, len(self.records))
        return torch.randperm(len(self.records), generator=g)[:k].tolist()

    def batch(self, idx: list[int], device) -> dict[str, Any]:
        """input_ids, attention_mask and labels (-100 outside completions) of the records, right-padded."""
        import torch

        recs = [self.records[i] for i in idx]
        t = max(len(r["input_ids"]) for r in recs)
        ids = torch.full((len(recs), t), self.pad, dtype=torch.long)
        att = torch.zeros((len(recs), t), dtype=torch.long)
        lab = torch.full((len(recs), t), -100, dtype=torch.long)
        for j, r in enumerate(recs):
            n = len(r["input_ids"])
            x = torch.tensor(r["input_ids"], dtype=torch.long)
            m = torch.tensor(r["completion_mask"], dtype=torch.bool)
            ids[j, :n] = x
            att[j, :n] = 1
            lab[j, :n] = torch.where(m, x, torch.full_like(x, -100))
        return {"input_ids": ids.to(device), "attention_mask": att.to(device), "labels": lab.to(device)}

    def nll(self, model, pairs: int, device):
        """Mean -log p per completion token of a fresh draw for a micro-batch of `pairs` pairs (with grad)."""
        b = self.batch(self.draw(pairs), device)
        out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=b["labels"],
                    fused_lm_head=True, use_cache=False)
        mask = (b["labels"][:, 1:] != -100)
        seq_len = mask.size(1)
        logp = out.log_probs[:, -seq_len:]
        return -(logp * mask).sum() / mask.sum()
