"""Command-line oracle for the TypeScript engine's tests: `python -m psrlm_ref.oracle <request.json> <out_dir>`.

One request per process. The request's "kind" picks what is computed (init, forward, dpo, adamw_step, greedy,
encode); each writes `result.json` (always, with "ok") and, where tensors are involved, F32 safetensors files
into out_dir. The exact formats are in reference/README.md; everything follows docs/engine.md ("Losses",
"Optimiser", "Tokenizer", "Checkpoint directory"). A malformed request is an error naming the field, never a
silently guessed default, because a test that compares against a wrong oracle passes for the wrong reason.

Exit status: 0 ok; 2 bad request (result.json has ok=false and the message); 1 anything else.
"""
from __future__ import annotations

import json
import math
import os
import sys
import traceback

import torch
from safetensors.torch import load_file

from .model import (GPT, GPTConfig, KVCache, Tokenizer, chosen_nll, default_tokenizer, dpo_loss, init_params, is_decayed,
                    load_checkpoint, save_checkpoint, save_tensors, sft_loss, token_logps)


class RequestError(ValueError):
    """The request is malformed: exit 2 with a message naming the field."""


# ---------------------------------------------------------------------------------------------- helpers


def _get(req: dict, key: str, kind=None, default=..., where: str = "request"):
    if key not in req or req[key] is None:
        if default is ...:
            raise RequestError(f"{where}: '{key}' is required")
        return default
    v = req[key]
    if kind is not None and not isinstance(v, kind):
        raise RequestError(f"{where}: '{key}' has the wrong type ({type(v).__name__})")
    return v


def _dtype(req) -> torch.dtype:
    d = _get(req, "dtype", str, "float32")
    if d not in ("float32", "float64"):
        raise RequestError(f"request: dtype must be 'float32' or 'float64', got {d!r}")
    return torch.float32 if d == "float32" else torch.float64


def _int_matrix(v, name: str, allow_negative=False) -> list[list[int]]:
    if not isinstance(v, list) or not v or not all(isinstance(r, list) for r in v):
        raise RequestError(f"{name}: expected a non-empty list of lists of integers")
    n = len(v[0])
    for r in v:
        if len(r) != n:
            raise RequestError(f"{name}: rows must have equal length ({len(r)} != {n})")
        for x in r:
            if not isinstance(x, int) or isinstance(x, bool) or (x < 0 and not allow_negative):
                raise RequestError(f"{name}: {x!r} is not a valid token id")
    if n == 0:
        raise RequestError(f"{name}: rows are empty")
    return v


class Ctx:
    """Resolves paths relative to the request file's directory."""

    def __init__(self, req_path: str, out_dir: str):
        self.base = os.path.dirname(os.path.abspath(req_path))
        self.out = out_dir

    def path(self, p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(self.base, p)

    def out_path(self, name: str) -> str:
        return os.path.join(self.out, name)


def _floats(t: torch.Tensor):
    """Tensor -> nested Python floats (each the exact value of the tensor's element, as a double)."""
    return t.detach().cpu().to(torch.float64).tolist()


def _parse_batch(b: dict, where: str, V: int, n_ctx: int):
    """A token batch: tokens [B][t], optional targets [B][t] (default: tokens shifted left, -1 at the end),
    optional weights [B][t] (default: 1 where the target is >= 0)."""
    tokens = _int_matrix(_get(b, "tokens", list, where=where), f"{where}.tokens")
    B, t = len(tokens), len(tokens[0])
    if t > n_ctx:
        raise RequestError(f"{where}.tokens: {t} positions exceed n_ctx {n_ctx}")
    if "targets" in b and b["targets"] is not None:
        targets = _int_matrix(b["targets"], f"{where}.targets", allow_negative=True)
        if len(targets) != B or len(targets[0]) != t:
            raise RequestError(f"{where}.targets: shape must equal tokens' [{B}, {t}]")
    else:
        targets = [r[1:] + [-1] for r in tokens]
    for r in tokens + targets:
        for x in r:
            if x >= V:
                raise RequestError(f"{where}: token id {x} >= vocab_size {V}")
    if "weights" in b and b["weights"] is not None:
        w = b["weights"]
        if (not isinstance(w, list) or len(w) != B
                or not all(isinstance(r, list) and len(r) == t for r in w)):
            raise RequestError(f"{where}.weights: shape must equal tokens' [{B}, {t}]")
        for r in w:
            for x in r:
                if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x):
                    raise RequestError(f"{where}.weights: {x!r} is not a finite number")
        weights = w
    else:
        weights = [[1.0 if y >= 0 else 0.0 for y in r] for r in targets]
    for bi in range(B):
        for i in range(t):
            if weights[bi][i] != 0 and targets[bi][i] < 0:
                raise RequestError(f"{where}: position [{bi}][{i}] has weight {weights[bi][i]} but no target (-1)")
    return (torch.tensor(tokens, dtype=torch.long), torch.tensor(targets, dtype=torch.long),
            torch.tensor(weights, dtype=torch.float64))


def _norm(req) -> str:
    n = _get(req, "norm", str, "weight_sum")
    if n not in ("weight_sum", "count", "none"):
        raise RequestError(f"request: norm must be 'weight_sum', 'count' or 'none', got {n!r}")
    return n


def _sft(model: GPT, batch, norm: str):
    tokens, targets, weights = batch
    logits = model(tokens)
    logp = token_logps(logits, targets)
    loss = sft_loss(logp, weights.to(logp.dtype), norm)
    return loss, logits, logp


def _grads(model: GPT) -> dict[str, torch.Tensor]:
    return {n: (p.grad if p.grad is not None else torch.zeros_like(p)) for n, p in model.named_parameters()}


def _load(ctx: Ctx, req: dict, key: str, dtype, where="request") -> GPT:
    path = ctx.path(_get(req, key, str, where=where))
    return load_checkpoint(path, dtype=dtype)


# ---------------------------------------------------------------------------------------------- kinds


def do_forward(req: dict, ctx: Ctx) -> dict:
    dtype = _dtype(req)
    model = _load(ctx, req, "checkpoint", dtype)
    batch = _parse_batch(req, "request", model.cfg.vocab_size, model.cfg.n_ctx)
    norm = _norm(req)
    loss, logits, logp = _sft(model, batch, norm)
    model.zero_grad(set_to_none=True)
    loss.backward()
    tokens, targets, weights = batch
    save_tensors({"logits": logits, "logp": logp}, ctx.out_path("logits.safetensors"))
    save_tensors(_grads(model), ctx.out_path("grads.safetensors"))
    return {
        "loss": float(loss.detach()),
        "logp": _floats(logp),
        "weight_sum": float(weights.sum()),
        "n_tokens": int((weights != 0).sum()),
        "norm": norm,
        "files": {"logits": "logits.safetensors", "grads": "grads.safetensors"},
    }


def _pair_sequences(pairs, eos: int, pad: int, n_ctx: int, V: int):
    """Each pair -> two rows (chosen, rejected): prompt + completion (+ EOS when final), right-padded with the
    pad token; the weight is 1 at every position whose target is a completion token (EOS included)."""
    rows = []
    for i, p in enumerate(pairs):
        where = f"pairs[{i}]"
        if not isinstance(p, dict):
            raise RequestError(f"{where}: expected an object")
        prompt = _get(p, "prompt", list, where=where)
        final = _get(p, "final", bool, False, where=where)
        if not prompt:
            raise RequestError(f"{where}.prompt: must hold at least one token (the first completion token is "
                               "predicted from the last prompt position)")
        for side in ("chosen", "rejected"):
            comp = _get(p, side, list, where=where)
            side_final = _get(p, side + "_final", bool, final, where=where)
            seq = list(prompt) + list(comp) + ([eos] if side_final else [])
            for x in seq:
                if not isinstance(x, int) or isinstance(x, bool) or not 0 <= x < V:
                    raise RequestError(f"{where}: {x!r} is not a token id in [0, {V})")
            if len(seq) > n_ctx:
                raise RequestError(f"{where}.{side}: {len(seq)} tokens exceed n_ctx {n_ctx}")
            rows.append((seq, len(prompt)))
    t = max(len(s) for s, _ in rows) - 1
    tokens, targets, weights = [], [], []
    for seq, lp in rows:
        x = seq[:-1] + [pad] * (t - (len(seq) - 1))
        y = seq[1:] + [-1] * (t - (len(seq) - 1))
        w = [1.0 if lp - 1 <= i < len(seq) - 1 else 0.0 for i in range(t)]
        tokens.append(x), targets.append(y), weights.append(w)
    if t == 0:
        raise RequestError("pairs: every sequence is a single token; nothing to score")
    return (torch.tensor(tokens, dtype=torch.long), torch.tensor(targets, dtype=torch.long),
            torch.tensor(weights, dtype=torch.float64))


def _replay_sequences(req: dict, eos: int, pad: int, n_ctx: int, V: int):
    """IFT replay records (dpo with "replay"): each {prompt, completion, eos} (token ids; eos default true)
    becomes one row prompt + completion (+ EOS), right-padded, weight 1 where the target is a completion token."""
    r = _get(req, "replay", dict)
    weight = _get(r, "weight", (int, float), where="replay")
    if isinstance(weight, bool) or not weight > 0:
        raise RequestError(f"replay.weight must be above 0, got {weight!r}")
    recs = _get(r, "records", list, where="replay")
    if not recs:
        raise RequestError("replay.records is empty")
    rows = []
    for i, rec in enumerate(recs):
        where = f"replay.records[{i}]"
        if not isinstance(rec, dict):
            raise RequestError(f"{where}: expected an object")
        prompt = _get(rec, "prompt", list, where=where)
        comp = _get(rec, "completion", list, where=where)
        if not prompt or not comp:
            raise RequestError(f"{where}: prompt and completion must hold at least one token each")
        seq = list(prompt) + list(comp) + ([eos] if _get(rec, "eos", bool, True, where=where) else [])
        for x in seq:
            if not isinstance(x, int) or isinstance(x, bool) or not 0 <= x < V:
                raise RequestError(f"{where}: {x!r} is not a token id in [0, {V})")
        if len(seq) > n_ctx:
            raise RequestError(f"{where}: {len(seq)} tokens exceed n_ctx {n_ctx}")
        rows.append((seq, len(prompt)))
    t = max(len(s) for s, _ in rows) - 1
    tokens, targets, weights = [], [], []
    for seq, lp in rows:
        tokens.append(seq[:-1] + [pad] * (t - (len(seq) - 1)))
        targets.append(seq[1:] + [-1] * (t - (len(seq) - 1)))
        weights.append([1.0 if lp - 1 <= i < len(seq) - 1 else 0.0 for i in range(t)])
    return float(weight), (torch.tensor(tokens, dtype=torch.long), torch.tensor(targets, dtype=torch.long),
                           torch.tensor(weights, dtype=torch.float64))


def _seq_logps(model: GPT, batch) -> torch.Tensor:
    tokens, targets, weights = batch
    logp = token_logps(model(tokens), targets)
    return (logp * weights.to(logp.dtype)).sum(dim=1)


def do_dpo(req: dict, ctx: Ctx) -> dict:
    dtype = _dtype(req)
    policy = _load(ctx, req, "checkpoint", dtype)
    beta = _get(req, "beta", (int, float))
    alpha = _get(req, "nll_alpha", (int, float), 0)
    if alpha < 0:
        raise RequestError(f"request: nll_alpha must be 0 or more, got {alpha}")
    pairs = _get(req, "pairs", list)
    if not pairs:
        raise RequestError("request: 'pairs' is empty")
    tok = Tokenizer(policy.tokenizer)
    batch = _pair_sequences(pairs, tok.eos, tok.pad, policy.cfg.n_ctx, policy.cfg.vocab_size)
    has_ref_model = req.get("reference") is not None
    given = [("ref_chosen" in p) or ("ref_rejected" in p) for p in pairs]
    if has_ref_model and any(given):
        raise RequestError("request: give either 'reference' (a checkpoint) or per-pair ref_chosen/ref_rejected, "
                           "not both")
    if has_ref_model:
        ref = _load(ctx, req, "reference", dtype)
        if ref.cfg != policy.cfg:
            raise RequestError("request: reference and policy checkpoints have different configs")
        with torch.no_grad():
            r = _seq_logps(ref, batch)
        rc, rr = r[0::2], r[1::2]
    else:
        vals = []
        for i, p in enumerate(pairs):
            vals.append([_get(p, "ref_chosen", (int, float), where=f"pairs[{i}]"),
                         _get(p, "ref_rejected", (int, float), where=f"pairs[{i}]")])
        r = torch.tensor(vals, dtype=dtype)
        rc, rr = r[:, 0], r[:, 1]
    s = _seq_logps(policy, batch)
    pc, pr = s[0::2], s[1::2]
    loss = dpo_loss(pc, pr, rc, rr, float(beta))
    nll = chosen_nll(pc, batch[2][0::2].sum()) if alpha else None
    if nll is not None:
        loss = loss + float(alpha) * nll
    replay_nll = None
    if req.get("replay") is not None:
        # IFT replay: weight x the replay records' per-token NLL (sft_loss with norm weight_sum)
        w, rb = _replay_sequences(req, tok.eos, tok.pad, policy.cfg.n_ctx, policy.cfg.vocab_size)
        replay_nll = sft_loss(token_logps(policy(rb[0]), rb[1]), rb[2].to(dtype), "weight_sum")
        loss = loss + w * replay_nll
    policy.zero_grad(set_to_none=True)
    loss.backward()
    save_tensors(_grads(policy), ctx.out_path("grads.safetensors"))
    pc, pr = pc.detach(), pr.detach()
    cr = beta * (pc - rc)
    rj = beta * (pr - rr)
    out_pairs = [{
        "policy_chosen": float(pc[i]), "policy_rejected": float(pr[i]),
        "ref_chosen": float(rc[i]), "ref_rejected": float(rr[i]),
        "chosen_reward": float(cr[i]), "rejected_reward": float(rj[i]), "margin": float(cr[i] - rj[i]),
    } for i in range(len(pairs))]
    return {
        "loss": float(loss.detach()),
        **({"chosen_nll": float(nll.detach())} if nll is not None else {}),
        **({"replay_nll": float(replay_nll.detach())} if replay_nll is not None else {}),
        "pairs": out_pairs,
        "accuracy": float((cr > rj).to(torch.float64).mean()),
        "margin": float((cr - rj).to(torch.float64).mean()),
        "files": {"grads": "grads.safetensors"},
    }


def lr_at(s: int, opt: dict) -> float:
    """engine.md "Optimiser" schedule at optimizer step s (1-based). Without total_steps: constant lr.
    Past total_steps the cosine stays at its floor."""
    lr = opt["lr"]
    S = opt.get("total_steps")
    if S is None:
        return lr
    W = opt.get("warmup_steps", 0)
    m = opt.get("min_lr_frac", 0.0) * lr
    if s <= W:
        return lr * s / W
    if S <= W:
        return m
    p = min(1.0, (s - W) / (S - W))
    return m + (lr - m) * (1 + math.cos(math.pi * p)) / 2


def _parse_opt(o: dict) -> dict:
    where = "optimizer"
    opt = {
        "lr": float(_get(o, "lr", (int, float), where=where)),
        "weight_decay": float(_get(o, "weight_decay", (int, float), where=where)),
        "betas": _get(o, "betas", list, [0.9, 0.95], where=where),
        "eps": float(_get(o, "eps", (int, float), 1e-8, where=where)),
        "grad_clip": float(_get(o, "grad_clip", (int, float), 1.0, where=where)),
        "total_steps": _get(o, "total_steps", int, None, where=where),
        "warmup_steps": _get(o, "warmup_steps", int, 0, where=where),
        "min_lr_frac": float(_get(o, "min_lr_frac", (int, float), 0.0, where=where)),
    }
    if len(opt["betas"]) != 2:
        raise RequestError("optimizer.betas: expected [beta1, beta2]")
    if opt["total_steps"] is None and ("warmup_steps" in o or "min_lr_frac" in o):
        raise RequestError("optimizer: warmup_steps/min_lr_frac need total_steps (the schedule's length)")
    if opt["total_steps"] is not None and opt["total_steps"] < 1:
        raise RequestError("optimizer.total_steps: must be >= 1")
    return opt


def adamw_update(params: dict, grads: dict, m: dict, v: dict, t: int, lr: float, opt: dict):
    """One AdamW update exactly as engine.md writes it (decay before the Adam step, decay set per
    is_decayed), in the parameters' own dtype. Mutates params, m and v."""
    b1, b2 = opt["betas"]
    eps, wd = opt["eps"], opt["weight_decay"]
    bc1 = 1 - b1 ** t
    bc2 = 1 - b2 ** t
    for n, p in params.items():
        g = grads[n]
        m[n].mul_(b1).add_(g, alpha=1 - b1)
        v[n].mul_(b2).add_(g * g, alpha=1 - b2)
        if wd != 0 and is_decayed(n):
            p.sub_(p * (lr * wd))
        p.sub_(lr * (m[n] / bc1) / ((v[n] / bc2).sqrt() + eps))


def clip_grads(grads: dict, clip: float) -> tuple[float, float]:
    """Global L2 norm clipping (engine.md): if the norm exceeds clip, scale every gradient by clip / norm.
    Returns (norm before clipping, scale applied). clip <= 0 disables clipping."""
    norm = math.sqrt(sum(float((g.to(torch.float64) ** 2).sum()) for g in grads.values()))
    scale = clip / norm if clip > 0 and norm > clip else 1.0
    if scale != 1.0:
        for g in grads.values():
            g.mul_(scale)
    return norm, scale


def do_adamw_step(req: dict, ctx: Ctx) -> dict:
    dtype = _dtype(req)
    model = _load(ctx, req, "checkpoint", dtype)
    V = model.cfg.vocab_size
    opt = _parse_opt(_get(req, "optimizer", dict))
    norm = _norm(req)
    if req.get("batches") is not None:
        if req.get("batch") is not None:
            raise RequestError("request: give 'batches' (one per step) or 'batch' with 'steps', not both")
        raw = _get(req, "batches", list)
        if not raw:
            raise RequestError("request: 'batches' is empty")
        if "steps" in req and req["steps"] != len(raw):
            raise RequestError(f"request: steps ({req['steps']}) != len(batches) ({len(raw)})")
        batches = [_parse_batch(b, f"batches[{i}]", V, model.cfg.n_ctx) for i, b in enumerate(raw)]
    else:
        k = _get(req, "steps", int, 1)
        if k < 1:
            raise RequestError("request: steps must be >= 1")
        batches = [_parse_batch(_get(req, "batch", dict), "batch", V, model.cfg.n_ctx)] * k
    s0 = _get(req, "step", int, 1)
    if s0 < 1:
        raise RequestError("request: step (the first step's 1-based index) must be >= 1")
    params = dict(model.named_parameters())
    m = {n: torch.zeros_like(p) for n, p in params.items()}
    v = {n: torch.zeros_like(p) for n, p in params.items()}
    if req.get("state") is not None:
        st = load_file(ctx.path(req["state"]))
        for n in params:
            for d, pre in ((m, "m."), (v, "v.")):
                if pre + n not in st:
                    raise RequestError(f"state: tensor {pre + n} is missing")
                d[n].copy_(st[pre + n])
    history = []
    for i, batch in enumerate(batches):
        s = s0 + i
        model.zero_grad(set_to_none=True)
        loss, _, _ = _sft(model, batch, norm)
        loss.backward()
        grads = {n: p.grad for n, p in params.items()}
        gnorm, scale = clip_grads(grads, opt["grad_clip"])
        lr = lr_at(s, opt)
        with torch.no_grad():
            adamw_update({n: p.data for n, p in params.items()}, grads, m, v, s, lr, opt)
        history.append({"step": s, "lr": lr, "loss": float(loss.detach()), "grad_norm": gnorm, "clip_scale": scale})
    last = s0 + len(batches) - 1
    save_tensors(model.engine_state(), ctx.out_path("params.safetensors"))
    state = {**{"m." + n: t for n, t in m.items()}, **{"v." + n: t for n, t in v.items()}}
    save_tensors(state, ctx.out_path("optimizer_state.safetensors"), metadata={"step": str(last)})
    return {"steps": history, "last_step": last,
            "files": {"params": "params.safetensors", "optimizer_state": "optimizer_state.safetensors"}}


def greedy(model: GPT, prompt: list[int], n_new: int, stop_at_eos: bool, eos: int):
    """Greedy decoding with a KV cache: prefill the prompt, then one token per step. Returns (ids, logits of
    each step [n, V])."""
    cache = KVCache(model.cfg, 1, min(model.cfg.n_ctx, len(prompt) + n_new), dtype=model.wte.dtype)
    logits = model(torch.tensor([prompt]), cache)[0, -1]
    ids, steps = [], []
    for _ in range(n_new):
        nxt = int(torch.argmax(logits))  # first index of the maximum on ties
        ids.append(nxt)
        steps.append(logits)
        if stop_at_eos and nxt == eos:
            break
        if len(ids) == n_new:
            break
        logits = model(torch.tensor([[nxt]]), cache)[0, -1]
    return ids, torch.stack(steps) if steps else torch.zeros(0, model.cfg.vocab_size)


def greedy_recompute(model: GPT, prompt: list[int], n_new: int, stop_at_eos: bool, eos: int):
    """The same without a cache: the whole sequence is recomputed for every new token."""
    seq, ids, steps = list(prompt), [], []
    for _ in range(n_new):
        logits = model(torch.tensor([seq]))[0, -1]
        nxt = int(torch.argmax(logits))
        ids.append(nxt)
        steps.append(logits)
        seq.append(nxt)
        if stop_at_eos and nxt == eos:
            break
    return ids, torch.stack(steps) if steps else torch.zeros(0, model.cfg.vocab_size)


def do_greedy(req: dict, ctx: Ctx) -> dict:
    dtype = _dtype(req)
    model = _load(ctx, req, "checkpoint", dtype)
    V, T = model.cfg.vocab_size, model.cfg.n_ctx
    if "prompt" in req and "prompts" in req:
        raise RequestError("request: give 'prompt' or 'prompts', not both")
    prompts = [_get(req, "prompt", list)] if "prompt" in req else _get(req, "prompts", list)
    n_new = _get(req, "n_new", int)
    stop = _get(req, "stop_at_eos", bool, False)
    eos = Tokenizer(model.tokenizer).eos
    if n_new < 1:
        raise RequestError("request: n_new must be >= 1")
    out, logps, tensors = [], [], {}
    max_diff = 0.0
    with torch.no_grad():
        for i, p in enumerate(prompts):
            if not isinstance(p, list) or not p or not all(isinstance(x, int) and 0 <= x < V for x in p):
                raise RequestError(f"prompts[{i}]: expected a non-empty list of token ids in [0, {V})")
            if len(p) + n_new - 1 > T:
                raise RequestError(f"prompts[{i}]: {len(p)} prompt + {n_new} new tokens need "
                                   f"{len(p) + n_new - 1} positions > n_ctx {T}")
            ids, lg = greedy(model, p, n_new, stop, eos)
            ids2, lg2 = greedy_recompute(model, p, n_new, stop, eos)
            if ids != ids2:
                raise AssertionError(f"prompts[{i}]: KV-cache greedy {ids} != full recompute {ids2}")
            max_diff = max(max_diff, float((lg - lg2).abs().max()))
            lp = torch.log_softmax(lg, dim=-1)
            logps.append([float(lp[j, x]) for j, x in enumerate(ids)])
            out.append(ids)
            tensors[f"logits.{i}"] = lg
    save_tensors(tensors, ctx.out_path("logits.safetensors"))
    return {"sequences": out, "logps": logps, "kv_matches_recompute": True,
            "max_abs_logit_diff_kv_vs_recompute": max_diff, "files": {"logits": "logits.safetensors"}}


def do_encode(req: dict, ctx: Ctx) -> dict:
    p = ctx.path(_get(req, "tokenizer", str))
    if os.path.isdir(p):
        p = os.path.join(p, "tokenizer.json")
    with open(p) as f:
        tok = Tokenizer(json.load(f))
    results = []
    for i, text in enumerate(_get(req, "texts", list)):
        if not isinstance(text, str):
            raise RequestError(f"texts[{i}]: expected a string")
        try:
            results.append({"ids": tok.encode(text)})
        except ValueError as e:
            results.append({"error": str(e)})
    return {"results": results}


def do_init(req: dict, ctx: Ctx) -> dict:
    """A fresh checkpoint with engine.md's initialisation laws (torch's PRNG, not the engine's), written by
    this reference's save_checkpoint: for tests of the engine's loader on a file it did not write."""
    c = _get(req, "config", dict)
    try:
        cfg = GPTConfig.from_json({"arch": "psrlm-gpt", **c})
    except (ValueError, TypeError) as e:
        raise RequestError(f"config: {e}") from e
    seed = _get(req, "seed", int, 0)
    tok = _get(req, "tokenizer", dict, None) or default_tokenizer(cfg.vocab_size)
    if len(tok.get("tokens", [])) != cfg.vocab_size:
        raise RequestError(f"tokenizer: {len(tok.get('tokens', []))} tokens, config vocab_size {cfg.vocab_size}")
    Tokenizer(tok)
    model = init_params(GPT(cfg), seed)
    save_checkpoint(model, tok, ctx.out_path("checkpoint"), manifest={"made_by": "psrlm_ref.oracle init",
                                                                      "seed": seed, "torch": torch.__version__})
    return {"checkpoint": "checkpoint", "params": sum(p.numel() for p in model.parameters())}


def _finite(x):
    """JSON has no NaN or Infinity (JavaScript's JSON.parse rejects Python's spelling): write them as the
    strings "NaN", "Infinity", "-Infinity" so a diverged value still reaches the caller readably."""
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


KINDS = {"init": do_init, "forward": do_forward, "dpo": do_dpo, "adamw_step": do_adamw_step, "greedy": do_greedy,
         "encode": do_encode}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m psrlm_ref.oracle <request.json> <out_dir>", file=sys.stderr)
        return 2
    req_path, out_dir = argv
    os.makedirs(out_dir, exist_ok=True)
    result_path = os.path.join(out_dir, "result.json")
    status, result = 0, None
    try:
        with open(req_path) as f:
            req = json.load(f)
        if not isinstance(req, dict):
            raise RequestError("request: expected a JSON object")
        kind = _get(req, "kind", str)
        if kind not in KINDS:
            raise RequestError(f"request: unknown kind {kind!r} (known: {', '.join(KINDS)})")
        threads = _get(req, "threads", int, 1)
        torch.set_num_threads(threads)  # 1 by default: reproducible reductions, and the machine is shared
        result = {"ok": True, "kind": kind, **KINDS[kind](req, Ctx(req_path, out_dir))}
    except (RequestError, json.JSONDecodeError, FileNotFoundError) as e:
        status, result = 2, {"ok": False, "error": str(e)}
    except Exception as e:  # noqa: BLE001 - report anything else with its trace
        status, result = 1, {"ok": False, "error": f"{type(e).__name__}: {e}"}
        traceback.print_exc()
    with open(result_path + ".tmp", "w") as f:
        json.dump(_finite(result), f, allow_nan=False)
    os.replace(result_path + ".tmp", result_path)
    if status:
        print(f"psrlm_ref.oracle: {result['error']}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
