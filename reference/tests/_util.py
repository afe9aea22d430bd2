"""Shared helpers for the reference's tests: tiny configs and checkpoints built in temporary directories."""
import os
import sys
import tempfile

# Make psrlm_ref importable however the tests are started (from reference/, from the repo root, or by path).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

from psrlm_ref.model import GPT, GPTConfig, default_tokenizer, init_params, save_checkpoint  # noqa: E402

torch.set_num_threads(1)

TINY = GPTConfig(vocab_size=13, n_ctx=12, n_layer=2, n_embd=8, n_head=2, n_inner=12)


def tiny_model(seed=0, cfg=TINY, dtype=torch.float32, scale=1.0):
    """A tiny model; scale > 1 widens the init so that logits are far from uniform (a stronger test)."""
    m = init_params(GPT(cfg), seed)
    if scale != 1.0:
        g = torch.Generator().manual_seed(seed + 1000)
        with torch.no_grad():
            for n, p in m.named_parameters():
                # perturb every parameter (also biases and layernorms, which init leaves at 0/1)
                p.add_(torch.randn(p.shape, generator=g) * 0.02 * scale)
    return m.to(dtype)


def tiny_checkpoint(tmp: str, seed=0, cfg=TINY, scale=1.0, name="ck") -> str:
    path = os.path.join(tmp, name)
    save_checkpoint(tiny_model(seed, cfg, scale=scale), default_tokenizer(cfg.vocab_size), path)
    return path


class TempDir:
    def __enter__(self):
        self._d = tempfile.TemporaryDirectory(prefix="psrlm-ref-test-")
        return self._d.name

    def __exit__(self, *a):
        self._d.cleanup()
