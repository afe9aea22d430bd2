"""The training set every rank reads: built once by the main process, saved to disk, loaded from there by all.

Why not `Dataset.from_list` on each rank: an in-memory dataset has no cache file, and TRL names the cache of
precomputed reference log-probs (`precompute_ref`) after the dataset's cache directory
(`DPOTrainer._precompute_ref_logps` -> `Dataset._get_cache_file_path`). With no cache file that is a random
name in a per-process temporary directory, so rank 0 writes the log-probs where only rank 0 looks, and ranks
1..N-1 crash on the first DPO. A dataset loaded from one directory has the same cache directory and the same
fingerprint (saved with it) on every rank, so every rank finds the file rank 0 wrote. Saving on the main
process first and loading after it (`TrainingArguments.main_process_first`, a barrier) also keeps N ranks from writing one
directory at once. The directory must be on a filesystem every node sees (as the output is).
"""
from __future__ import annotations

import os
import shutil
from typing import Any


def shared_dataset(rows: list[dict[str, Any]], path: str, args):
    """`rows` as a datasets.Dataset backed by files under `path`, identical (files, fingerprint, cache names)
    on every rank. `args`: the trainer arguments, whose process group is the launcher's (an accelerate
    `PartialState()` made before them can see one process where torchrun started several). The global main
    process replaces whatever `path` held (a stale set from an interrupted run) while the others wait."""
    from datasets import Dataset, load_from_disk

    with args.main_process_first(local=False, desc="saving the training set"):
        if args.process_index == 0:
            shutil.rmtree(path, ignore_errors=True)
            tmp = f"{path}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            Dataset.from_list(rows).save_to_disk(tmp)
            os.replace(tmp, path)
        return load_from_disk(path)
