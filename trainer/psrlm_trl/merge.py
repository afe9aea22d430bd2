"""Merges a trained LoRA adapter into its base in a process of its own: `python -m psrlm_trl.merge BASE ADAPTER
OUT DTYPE`, writing a plain Hugging Face checkpoint (safetensors) to OUT.

Why a separate single process, and not `merge_and_unload` on the trained model: under DeepSpeed ZeRO-3 every
rank holds a slice of each weight (the module's tensors are empty placeholders), so merging there adds the
LoRA product to placeholders and saves a broken model. Gathering first (`deepspeed.zero.GatheredParameters`)
is a collective every rank must enter, holds the whole model on each GPU while the merged modules replace
DeepSpeed's hooked ones, and still leaves the save to a state dict built by hand; it is right only as long as
DeepSpeed's and peft's internals line up. The adapter, by contrast, is saved by the trainer's own ZeRO-3 path
(`Trainer.save_model` gathers it), and merging it into a freshly loaded base is plain peft on one process, no
distribution, no DeepSpeed, the same on one GPU or 64. It runs on the CPU: a 7B model in bf16 needs about
16 GB of host memory and a few minutes, once per iteration.

The main rank starts it after every rank has saved the adapter (psrlm_trl.train). Distributed settings in
the environment (RANK, WORLD_SIZE, ACCELERATE_*) are removed so that loading does not try to join a process
group or partition the model.
"""
from __future__ import annotations

import os
import subprocess
import sys

DTYPES = ("float32", "bfloat16", "float16")


def merge(base: str, adapter: str, out: str, dtype: str) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    dt = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    model = AutoModelForCausalLM.from_pretrained(base, dtype=dt, device_map="cpu")
    model = PeftModel.from_pretrained(model, adapter, adapter_name="default").merge_and_unload()
    model.save_pretrained(out, safe_serialization=True)


def merge_in_subprocess(base: str, adapter: str, out: str, dtype: str) -> None:
    """Runs `merge` as `python -m psrlm_trl.merge` with no distributed environment; raises on failure."""
    env = {k: v for k, v in os.environ.items()
           if not (k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR",
                         "MASTER_PORT", "TORCHELASTIC_RUN_ID") or k.startswith("ACCELERATE_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.dirname(os.path.dirname(__file__)), env.get("PYTHONPATH")) if p)
    r = subprocess.run([sys.executable, "-m", "psrlm_trl.merge", base, adapter, out, dtype], env=env,
                       stdout=sys.stderr, stderr=sys.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"merging the LoRA adapter {adapter} into {base} failed (exit status {r.returncode}); "
                           "the adapter is kept there, merge it by hand with python -m psrlm_trl.merge")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 4 or argv[3] not in DTYPES:
        sys.stderr.write(f"usage: python -m psrlm_trl.merge BASE ADAPTER OUT {{{'|'.join(DTYPES)}}}\n")
        return 2
    merge(*argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
