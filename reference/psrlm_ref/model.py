"""psrlm-gpt in plain PyTorch: the correctness oracle for the TypeScript engine.

Written from docs/engine.md alone ("Model", "Losses", "Tokenizer", "Checkpoint directory"), independently of
the engine's code, so that agreement between the two means something. Everything here favours being
obviously right over being fast: parameters are stored exactly as the checkpoint stores them ([in, out],
same names), so gradients come out under the checkpoint's names with no transposes to get wrong, and the
default attention is the literal formula (scores, mask, softmax) rather than a fused kernel. The fused
kernel (`attn="sdpa"`) is there for the speed benchmark and is tested against the literal one.

Public surface: GPTConfig, GPT, Tokenizer, KVCache, load_checkpoint, save_checkpoint, init_params,
token_logps, sft_loss, dpo_loss, chosen_nll.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

ARCH = "psrlm-gpt"


# ---------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class GPTConfig:
    """engine.md "Model": V, T, L, C, H, F and the layernorm epsilon."""

    vocab_size: int
    n_ctx: int
    n_layer: int
    n_embd: int
    n_head: int
    n_inner: Optional[int] = None  # engine.md: default 4C
    ln_eps: float = 1e-5

    def __post_init__(self):
        for k in ("vocab_size", "n_ctx", "n_layer", "n_embd", "n_head"):
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"config: {k} must be a positive integer, got {v!r}")
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"config: n_embd ({self.n_embd}) is not divisible by n_head ({self.n_head})")
        if self.n_inner is None:
            object.__setattr__(self, "n_inner", 4 * self.n_embd)
        if not isinstance(self.n_inner, int) or self.n_inner <= 0:
            raise ValueError(f"config: n_inner must be a positive integer, got {self.n_inner!r}")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_json(self) -> dict:
        return {
            "arch": ARCH,
            "vocab_size": self.vocab_size,
            "n_ctx": self.n_ctx,
            "n_layer": self.n_layer,
            "n_embd": self.n_embd,
            "n_head": self.n_head,
            "n_inner": self.n_inner,
            "ln_eps": self.ln_eps,
        }

    @staticmethod
    def from_json(d: dict) -> "GPTConfig":
        if d.get("arch") != ARCH:
            raise ValueError(f"config.json: arch is {d.get('arch')!r}, expected {ARCH!r}")
        missing = [k for k in ("vocab_size", "n_ctx", "n_layer", "n_embd", "n_head") if k not in d]
        if missing:
            raise ValueError(f"config.json: missing keys {missing}")
        return GPTConfig(
            vocab_size=d["vocab_size"],
            n_ctx=d["n_ctx"],
            n_layer=d["n_layer"],
            n_embd=d["n_embd"],
            n_head=d["n_head"],
            n_inner=d.get("n_inner"),
            ln_eps=float(d.get("ln_eps", 1e-5)),
        )


def param_shapes(cfg: GPTConfig) -> dict[str, tuple[int, ...]]:
    """engine.md "Checkpoint directory": every parameter's name and shape, in a fixed order."""
    V, T, C, Fi = cfg.vocab_size, cfg.n_ctx, cfg.n_embd, cfg.n_inner
    shapes: dict[str, tuple[int, ...]] = {"wte": (V, C), "wpe": (T, C)}
    for l in range(cfg.n_layer):
        p = f"h.{l}."
        shapes.update({
            p + "ln1.weight": (C,), p + "ln1.bias": (C,),
            p + "attn.qkv.weight": (C, 3 * C), p + "attn.qkv.bias": (3 * C,),
            p + "attn.proj.weight": (C, C), p + "attn.proj.bias": (C,),
            p + "ln2.weight": (C,), p + "ln2.bias": (C,),
            p + "mlp.fc.weight": (C, Fi), p + "mlp.fc.bias": (Fi,),
            p + "mlp.proj.weight": (Fi, C), p + "mlp.proj.bias": (C,),
        })
    shapes["ln_f.weight"] = (C,)
    shapes["ln_f.bias"] = (C,)
    return shapes


# engine.md "Optimiser": weight decay applies to these and to nothing else.
DECAY_SUFFIXES = ("attn.qkv.weight", "attn.proj.weight", "mlp.fc.weight", "mlp.proj.weight")


def is_decayed(name: str) -> bool:
    return name.startswith("h.") and name.endswith(DECAY_SUFFIXES)


# ---------------------------------------------------------------------------------------------- modules


class Affine(nn.Module):
    """y = x @ W + b with W stored [in, out] as in the checkpoint (not nn.Linear's [out, in])."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y


class KVCache:
    """Keys and values of every layer for positions [0, length), preallocated to `capacity` positions.

    Shapes [B, H, capacity, D]. `expand(k)` repeats each sequence k times (sequence i -> rows i*k..i*k+k-1),
    which is how candidates that share a prompt share its prefill.
    """

    def __init__(self, cfg: GPTConfig, batch: int, capacity: int, dtype=torch.float32, device=None):
        if capacity > cfg.n_ctx:
            raise ValueError(f"KV cache capacity {capacity} exceeds n_ctx {cfg.n_ctx}")
        shape = (batch, cfg.n_head, capacity, cfg.head_dim)
        self.k = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(cfg.n_layer)]
        self.v = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(cfg.n_layer)]
        self.length = 0
        self.capacity = capacity

    def expand(self, k: int) -> "KVCache":
        out = object.__new__(KVCache)
        out.k = [t.repeat_interleave(k, dim=0) for t in self.k]
        out.v = [t.repeat_interleave(k, dim=0) for t in self.v]
        out.length = self.length
        out.capacity = self.capacity
        return out


class Attention(nn.Module):
    def __init__(self, cfg: GPTConfig, attn_impl: str):
        super().__init__()
        self.cfg = cfg
        self.attn_impl = attn_impl
        self.qkv = Affine(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = Affine(cfg.n_embd, cfg.n_embd)

    def forward(self, a, layer: int, cache: Optional[KVCache]):
        B, t, C = a.shape
        H, D = self.cfg.n_head, self.cfg.head_dim
        qkv = self.qkv(a)
        # columns q | k | v; head j uses columns j*D..(j+1)*D of each third (engine.md)
        q, k, v = qkv.split(C, dim=2)
        q = q.view(B, t, H, D).transpose(1, 2)  # [B, H, t, D]
        k = k.view(B, t, H, D).transpose(1, 2)
        v = v.view(B, t, H, D).transpose(1, 2)
        past = 0
        if cache is not None:
            past = cache.length
            if past + t > cache.capacity:
                raise ValueError(f"KV cache full: {past} + {t} > {cache.capacity}")
            cache.k[layer][:, :, past:past + t] = k
            cache.v[layer][:, :, past:past + t] = v
            k = cache.k[layer][:, :, :past + t]
            v = cache.v[layer][:, :, :past + t]
        n_keys = past + t
        if self.attn_impl == "sdpa":
            if t == 1:
                y = F.scaled_dot_product_attention(q, k, v)  # one query sees every cached key
            elif past == 0:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                allowed = _causal_allowed(t, n_keys, past, a.device)
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        else:
            # literal engine.md: softmax(q k^T / sqrt(D) + causal mask) v; mask key position > query position
            att = (q @ k.transpose(-2, -1)) / math.sqrt(D)
            allowed = _causal_allowed(t, n_keys, past, a.device)
            att = att.masked_fill(~allowed, float("-inf"))
            att = torch.softmax(att, dim=-1)
            y = att @ v
        y = y.transpose(1, 2).reshape(B, t, C)  # head j -> columns j*D..
        return self.proj(y)


def _causal_allowed(t: int, n_keys: int, past: int, device) -> torch.Tensor:
    """[t, n_keys] boolean: query i (absolute position past+i) may see key j iff j <= past+i."""
    qpos = torch.arange(past, past + t, device=device).unsqueeze(1)
    kpos = torch.arange(n_keys, device=device).unsqueeze(0)
    return kpos <= qpos


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.fc = Affine(cfg.n_embd, cfg.n_inner)
        self.proj = Affine(cfg.n_inner, cfg.n_embd)

    def forward(self, m):
        return self.proj(F.gelu(self.fc(m), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig, attn_impl: str):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd, eps=cfg.ln_eps)  # biased variance, as engine.md says
        self.attn = Attention(cfg, attn_impl)
        self.ln2 = nn.LayerNorm(cfg.n_embd, eps=cfg.ln_eps)
        self.mlp = MLP(cfg)

    def forward(self, h, layer: int, cache):
        h = h + self.attn(self.ln1(h), layer, cache)
        h = h + self.mlp(self.ln2(h))
        return h


class GPT(nn.Module):
    """engine.md "Model". named_parameters() yields exactly the checkpoint's names (wte, h.0.ln1.weight, ...)."""

    def __init__(self, cfg: GPTConfig, attn_impl: str = "math"):
        super().__init__()
        if attn_impl not in ("math", "sdpa"):
            raise ValueError(f"attn_impl must be 'math' or 'sdpa', got {attn_impl!r}")
        self.cfg = cfg
        self.wte = nn.Parameter(torch.zeros(cfg.vocab_size, cfg.n_embd))
        self.wpe = nn.Parameter(torch.zeros(cfg.n_ctx, cfg.n_embd))
        self.h = nn.ModuleList([Block(cfg, attn_impl) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.ln_eps)
        self.tokenizer: Optional[dict] = None  # set by load_checkpoint

    def set_attn_impl(self, attn_impl: str):
        for b in self.h:
            b.attn.attn_impl = attn_impl

    def forward(self, idx: torch.Tensor, cache: Optional[KVCache] = None) -> torch.Tensor:
        """idx [B, t] int64 -> logits [B, t, V]. With a cache, idx continues the cached positions."""
        B, t = idx.shape
        past = cache.length if cache is not None else 0
        if past + t > self.cfg.n_ctx:
            raise ValueError(f"sequence of {past + t} positions exceeds n_ctx {self.cfg.n_ctx}")
        # id check: a host sync, so skipped inside torch.compile (the benchmark), kept everywhere else
        if (not torch.compiler.is_compiling() and idx.numel()
                and (int(idx.min()) < 0 or int(idx.max()) >= self.cfg.vocab_size)):
            raise ValueError(f"token id out of range [0, {self.cfg.vocab_size})")
        h = self.wte[idx] + self.wpe[past:past + t]
        for l, block in enumerate(self.h):
            h = block(h, l, cache)
        h = self.ln_f(h)
        if cache is not None:
            cache.length = past + t
        return h @ self.wte.t()  # tied embeddings, no bias

    def engine_state(self) -> dict[str, torch.Tensor]:
        return {n: p.detach() for n, p in self.named_parameters()}


def init_params(model: GPT, seed: int = 0) -> GPT:
    """engine.md "Initialisation" distributions, drawn from torch's PRNG (not the engine's: same law, other
    numbers). Used by tests and the benchmark; the oracle always works on a given checkpoint."""
    g = torch.Generator().manual_seed(seed)
    resid_std = 0.02 / math.sqrt(2 * model.cfg.n_layer)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("attn.proj.weight", "mlp.proj.weight")):
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * resid_std)
            elif name in ("wte", "wpe") or name.endswith(".weight") and p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.02)
            elif ".ln" in name or name.startswith("ln_f"):
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.zero_()  # biases
    return model


# ---------------------------------------------------------------------------------------------- losses


def token_logps(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """engine.md "Losses": logp[i] = logits[i, y[i]] - logsumexp(logits[i]). Targets < 0 give 0."""
    safe = targets.clamp(min=0)
    lp = logits.gather(-1, safe.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    return torch.where(targets >= 0, lp, torch.zeros_like(lp))


def sft_loss(logp: torch.Tensor, weights: torch.Tensor, norm: str = "weight_sum") -> torch.Tensor:
    """SFT: -sum(w * logp) / denominator over the whole batch.

    norm: "weight_sum" (sum of weights: for 0/1 weights that is engine.md's "number of completion tokens in
    the batch"), "count" (number of nonzero weights), "none" (plain weighted sum).
    """
    s = -(weights * logp).sum()
    if norm == "none":
        return s
    if norm == "weight_sum":
        d = weights.sum()
    elif norm == "count":
        d = (weights != 0).sum().to(logp.dtype)
    else:
        raise ValueError(f"norm must be 'weight_sum', 'count' or 'none', got {norm!r}")
    if float(d) == 0:
        raise ValueError("SFT loss: the batch has no weighted (completion) tokens")
    return s / d


def dpo_loss(pc, pr, rc, rr, beta: float) -> torch.Tensor:
    """engine.md "Losses", DPO (sigmoid): mean over pairs of -log sigmoid(beta((pc - rc) - (pr - rr))).
    Written as softplus(-z), which is the same value without overflow for large |z|."""
    z = beta * ((pc - rc) - (pr - rr))
    return F.softplus(-z).mean()


def chosen_nll(pc, chosen_tokens) -> torch.Tensor:
    """engine.md "Losses", the NLL term of DPO with nll_alpha (iterative RPO): minus the chosen sides'
    summed log-probs over the number of chosen completion tokens in the batch (a per-token mean)."""
    n = float(chosen_tokens)
    if n <= 0:
        raise ValueError("chosen NLL: the batch has no chosen completion tokens")
    return -pc.sum() / n


# ---------------------------------------------------------------------------------------------- tokenizer


class Tokenizer:
    """engine.md "Tokenizer": id = index in `tokens`; encoding is greedy longest match over non-special
    tokens; special tokens are never produced by encoding; an unknown character is an error naming it."""

    def __init__(self, d: dict):
        if d.get("type") != "psrlm-char":
            raise ValueError(f"tokenizer.json: type is {d.get('type')!r}, expected 'psrlm-char'")
        tokens = d.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ValueError("tokenizer.json: 'tokens' must be a list of strings")
        special = d.get("special") or {}
        for k in ("eos", "pad"):
            if k not in special:
                raise ValueError(f"tokenizer.json: special.{k} is missing")
        for k, i in special.items():
            if not isinstance(i, int) or not 0 <= i < len(tokens):
                raise ValueError(f"tokenizer.json: special.{k} = {i!r} is not a token id")
        self.d = d
        self.tokens: list[str] = tokens
        self.special: dict[str, int] = dict(special)
        self.eos: int = special["eos"]
        self.pad: int = special["pad"]
        specials = set(special.values())
        # First id wins if a string appears twice (the file should not do that).
        self._ids: dict[str, int] = {}
        for i, t in enumerate(tokens):
            if i not in specials and t and t not in self._ids:
                self._ids[t] = i
        self._max_len = max((len(t) for t in self._ids), default=1)

    def __len__(self):
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        out, i = [], 0
        while i < len(text):
            for n in range(min(self._max_len, len(text) - i), 0, -1):
                tid = self._ids.get(text[i:i + n])
                if tid is not None:
                    out.append(tid)
                    i += n
                    break
            else:
                raise ValueError(f"cannot encode character {text[i]!r} (U+{ord(text[i]):04X}) at offset {i}: "
                                 "not in the vocabulary")
        return out

    def decode(self, ids) -> str:
        return "".join(self.tokens[i] for i in ids)


# ---------------------------------------------------------------------------------------------- checkpoints


def load_checkpoint(path: str, dtype: torch.dtype = torch.float32, attn_impl: str = "math") -> GPT:
    """Read engine.md's checkpoint directory. Refuses missing, extra, misshapen or non-F32 tensors rather than
    guessing. Returns a GPT with `.tokenizer` (the tokenizer.json dict) set; `dtype=torch.float64` gives an
    exact widening of the stored F32 values (for finite-difference or high-precision checks)."""
    if not os.path.isdir(path):
        raise FileNotFoundError(f"checkpoint directory not found: {path}")
    for f in ("config.json", "model.safetensors", "tokenizer.json"):
        if not os.path.isfile(os.path.join(path, f)):
            raise FileNotFoundError(f"checkpoint {path}: {f} is missing")
    with open(os.path.join(path, "config.json")) as f:
        cfg = GPTConfig.from_json(json.load(f))
    with open(os.path.join(path, "tokenizer.json")) as f:
        tok = json.load(f)
    Tokenizer(tok)  # validate
    if len(tok["tokens"]) != cfg.vocab_size:
        raise ValueError(f"checkpoint {path}: tokenizer has {len(tok['tokens'])} tokens, "
                         f"config vocab_size is {cfg.vocab_size}")
    tensors = load_file(os.path.join(path, "model.safetensors"))
    expected = param_shapes(cfg)
    missing = [n for n in expected if n not in tensors]
    extra = [n for n in tensors if n not in expected]
    if missing or extra:
        raise ValueError(f"checkpoint {path}: missing tensors {missing[:8]}{'...' if len(missing) > 8 else ''}, "
                         f"unexpected tensors {extra[:8]}{'...' if len(extra) > 8 else ''}")
    for n, shape in expected.items():
        t = tensors[n]
        if t.dtype != torch.float32:
            raise ValueError(f"checkpoint {path}: tensor {n} has dtype {t.dtype}, expected F32")
        if tuple(t.shape) != shape:
            raise ValueError(f"checkpoint {path}: tensor {n} has shape {list(t.shape)}, expected {list(shape)}")
    model = GPT(cfg, attn_impl=attn_impl)
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(tensors[n])
    model.to(dtype)
    model.tokenizer = tok
    return model


def _atomic_write(path: str, write):
    """Write through a temporary file in the same directory and rename it into place (engine.md)."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_tensors(tensors: dict[str, torch.Tensor], path: str, metadata: Optional[dict] = None):
    """Save as F32 safetensors, atomically."""
    t32 = {n: t.detach().to(torch.float32).contiguous().cpu() for n, t in tensors.items()}
    _atomic_write(path, lambda tmp: save_file(t32, tmp, metadata=metadata))


def _write_json(obj, path: str):
    def w(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")
    _atomic_write(path, w)


def save_checkpoint(model: GPT, tokenizer: dict, path: str, manifest: Optional[dict] = None):
    """Write engine.md's checkpoint directory (config.json, model.safetensors F32, tokenizer.json, and an
    optional manifest.json). Each file is written to a temporary name and renamed into place."""
    if len(tokenizer.get("tokens", [])) != model.cfg.vocab_size:
        raise ValueError("save_checkpoint: tokenizer size differs from the model's vocab_size")
    os.makedirs(path, exist_ok=True)
    save_tensors(model.engine_state(), os.path.join(path, "model.safetensors"))
    _write_json(tokenizer, os.path.join(path, "tokenizer.json"))
    if manifest is not None:
        _write_json(manifest, os.path.join(path, "manifest.json"))
    # config last: a directory with a config.json has every other file complete
    _write_json(model.cfg.to_json(), os.path.join(path, "config.json"))


def default_tokenizer(vocab_size: int) -> dict:
    """A psrlm-char tokenizer of exactly vocab_size tokens (eos, pad, then printable characters), for tests
    and benchmarks that need a checkpoint but no particular vocabulary."""
    chars = ["\n"] + [chr(c) for c in range(32, 127)] + [chr(c) for c in range(0xA1, 0x2000)]
    if vocab_size < 3 or vocab_size - 2 > len(chars):
        raise ValueError(f"default_tokenizer: vocab_size {vocab_size} out of range")
    return {"type": "psrlm-char", "version": 1, "tokens": ["<|eos|>", "<|pad|>"] + chars[:vocab_size - 2],
            "special": {"eos": 0, "pad": 1}}
