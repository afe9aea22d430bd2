"""Tokenising the pipeline's exported JSONL for training, and the token-boundary contract with TypeScript.

Step-wise DPO (paper §3.4) scores only the next step, and a step is not the end of a solution: an
end-of-sequence token may follow a side only when that side ends the solution (`chosen_final` /
`rejected_final`). TRL's DPOTrainer appends EOS to every completion of plain-text data (its
`_prepare_dataset` adds `tokenizer.eos_token` to `chosen` and `rejected`), which would teach the model to
stop after one step. So the bridge tokenises itself, here, and hands TRL token ids:

    prompt_ids   = enc(prompt)
    chosen_ids   = enc(chosen)   (+ [eos] only when chosen_final)
    rejected_ids = enc(rejected) (+ [eos] only when rejected_final)

Prompt and completion are encoded apart, so the boundary is where the pipeline put it (the sampled step
continued exactly the prompt's tokens); `enc(prompt) + enc(step)` can differ from `enc(prompt + step)` when a
BPE merge straddles the boundary, and the contract check below reports such drift instead of training on it.

SFT records are `{prompt, completion, eos}` (eos default true: a whole answer or judgment ends) and become
`input_ids = enc(prompt) + enc(completion) (+ [eos])` with `completion_mask` 0 on the prompt.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable


class DataError(ValueError):
    """Bad input data: the message says which record and field, and how to fix it."""


class ContractError(RuntimeError):
    """TypeScript and Python disagree on tokens (exit status 3)."""


def read_jsonl(path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{n}: not JSON ({e})") from e
            if not isinstance(row, dict):
                raise DataError(f"{path}:{n}: a record must be a JSON object")
            rows.append(row)
    if not rows:
        raise DataError(f"{path}: no records")
    return rows


def _text(row: dict[str, Any], key: str, where: str, allow_empty: bool = False) -> str:
    v = row.get(key)
    if not isinstance(v, str) or (not v and not allow_empty):
        raise DataError(f"{where}: field '{key}' must be a non-empty string")
    return v


def _flag(row: dict[str, Any], key: str, where: str, default: bool) -> bool:
    v = row.get(key, default)
    if not isinstance(v, bool):
        raise DataError(f"{where}: field '{key}' must be true or false")
    return v


@dataclass
class Encoder:
    """Encodes text the way the bridge trains on it: no special tokens added, EOS appended explicitly."""

    tokenizer: Any

    @property
    def eos(self) -> int:
        eos = self.tokenizer.eos_token_id
        if eos is None:
            raise DataError("the tokenizer has no eos_token; set one in its tokenizer_config.json")
        return int(eos)

    def enc(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def pair(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        prompt = _text(row, "prompt", where)
        final = _flag(row, "final", where, False)
        cf = _flag(row, "chosen_final", where, final)
        rf = _flag(row, "rejected_final", where, final)
        # a final side may be empty: the model ended the sequence at once (the search's candidate "" with
        # finish eos), which trains as the EOS token alone; an empty non-final side would be no tokens at all
        chosen = _text(row, "chosen", where, allow_empty=cf)
        rejected = _text(row, "rejected", where, allow_empty=rf)
        out = {
            "prompt_ids": self.enc(prompt),
            "chosen_ids": self.enc(chosen) + ([self.eos] if cf else []),
            "rejected_ids": self.enc(rejected) + ([self.eos] if rf else []),
        }
        if not out["prompt_ids"]:
            raise DataError(f"{where}: the prompt encodes to no tokens")
        has_c, has_r = "ref_chosen" in row, "ref_rejected" in row
        if has_c != has_r:
            raise DataError(f"{where}: give both ref_chosen and ref_rejected, or neither")
        if has_c:
            for k in ("ref_chosen", "ref_rejected"):
                if not isinstance(row[k], (int, float)):
                    raise DataError(f"{where}: field '{k}' must be a number (summed reference log-prob)")
            out["ref_chosen_logps"] = float(row["ref_chosen"])
            out["ref_rejected_logps"] = float(row["ref_rejected"])
        return out

    def sft(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        prompt = _text(row, "prompt", where, allow_empty=True)
        completion = _text(row, "completion", where)
        eos = _flag(row, "eos", where, True)
        p = self.enc(prompt)
        c = self.enc(completion) + ([self.eos] if eos else [])
        return {"input_ids": p + c, "completion_mask": [0] * len(p) + [1] * len(c)}


def encode_pairs(enc: Encoder, rows: Iterable[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    out = [enc.pair(r, f"{source} record {i + 1}") for i, r in enumerate(rows)]
    with_ref = sum("ref_chosen_logps" in r for r in out)
    if 0 < with_ref < len(out):
        raise DataError(f"{source}: {with_ref} of {len(out)} pairs carry reference log-probs; give them for all pairs or none")
    return out


def encode_sft(enc: Encoder, rows: Iterable[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    return [enc.sft(r, f"{source} record {i + 1}") for i, r in enumerate(rows)]


def check_contract(enc: Encoder, contract_path: str) -> int:
    """Compares the TypeScript side's token ids for a sample of records with ours.

    The file holds `{"kind": "dpo"|"sft", "records": [...]}`; a DPO record has the text fields of a pair plus
    the TypeScript side's `prompt_ids`, `chosen_ids`, `rejected_ids` (EOS included per side), an SFT record
    `input_ids` and `completion_mask`. Any difference in the ids, the boundary or the mask stops training.
    Returns the number of records checked.
    """
    with open(contract_path, encoding="utf-8") as f:
        c = json.load(f)
    kind, records = c.get("kind"), c.get("records")
    if kind not in ("dpo", "sft") or not isinstance(records, list):
        raise DataError(f"{contract_path}: expected {{kind: 'dpo'|'sft', records: [...]}}")
    keys = ("prompt_ids", "chosen_ids", "rejected_ids") if kind == "dpo" else ("input_ids", "completion_mask")
    for i, r in enumerate(records):
        where = f"{contract_path} record {i + 1}"
        mine = enc.pair(r, where) if kind == "dpo" else enc.sft(r, where)
        for k in keys:
            theirs = r.get(k)
            if theirs != mine[k]:
                at = next((j for j, (a, b) in enumerate(zip(theirs or [], mine[k])) if a != b), min(len(theirs or []), len(mine[k])))
                raise ContractError(
                    f"token-boundary contract broken at {where}, field {k}: TypeScript has {len(theirs or [])} tokens, "
                    f"Python {len(mine[k])}, first difference at token {at} "
                    f"(TypeScript {(theirs or [])[at:at + 5]}, Python {mine[k][at:at + 5]}). "
                    "The two sides do not tokenise the same way: point the pipeline's tokenizer at the checkpoint's own "
                    "tokenizer.json, and make sure prompts end on a token boundary. Training stopped; nothing was written."
                )
    return len(records)
