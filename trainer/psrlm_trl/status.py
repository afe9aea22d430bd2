"""The trainer's machine-readable outcome: `{code, kind, message, rank}` in a JSON file, written atomically.

Why a file and not the exit status: `accelerate launch` (torchrun underneath) reports any failed rank as its
own "exit status 1", so a broken token-boundary contract (3) and bad data (2) reach the pipeline as the same
1. The pipeline (src/train/trl.ts) removes the file before launching and reads it afterwards, and so reports
the true kind whatever the launcher's exit status says.

Kinds and the exit status each rank also returns (for a launch without a launcher):
    ok 0 · error 1 (anything unexpected) · data 2 (bad config or data) · contract 3 (token-boundary drift)
    · orphaned 4 (the pipeline that started the trainer is gone: src/train/trl.ts, psrlm_trl.tether)
"""
from __future__ import annotations

import json
import os

CODES = {"ok": 0, "error": 1, "data": 2, "contract": 3, "orphaned": 4}


def status_path(cfg: dict) -> str:
    """Where the outcome goes: the config's `status`, else beside the output (never inside it: the output
    directory is whole or absent)."""
    return cfg.get("status") or f"{os.path.abspath(cfg['output'])}.status.json"


def write_status(path: str, kind: str, message: str = "") -> int:
    """Writes the outcome (temp file + rename, so a reader sees a whole file or none) and returns its code.
    Several ranks may fail at once: each writes its own temp file and the last rename wins, which is one of
    them, whole."""
    code = CODES[kind]
    rank = int(os.environ.get("RANK", "0"))
    body = json.dumps({"code": code, "kind": kind, "message": message, "rank": rank}) + "\n"
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        # the outcome still leaves by the exit status and stderr; a status we cannot write must not hide it
        pass
    return code
