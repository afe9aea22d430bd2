"""PyTorch's speed on this machine for a psrlm-gpt config: the anchor the engine's benchmark is compared with.

    python -m psrlm_ref.bench --n-layer 4 --n-embd 128 --n-head 4 --n-ctx 256 --vocab 100

Measures, with torch.set_num_threads(2) (the project's machines have 2 cores) and fp32:
  train        tokens/s of a full optimizer step (forward, backward, clip, AdamW with engine.md's decay set),
               eager and torch.compile (a compile failure is reported in the JSON, not raised)
  sample       64 sequences, 100-token prompt, 50 new tokens, KV cache, multinomial sampling at T=1;
               tokens/s with and without the prefill
  shared       64 prompts x 6 candidates: each prompt prefilled once, its cache expanded 6x (the natural
               PyTorch way to share a prefix); tokens/s with and without the prefill
  latency      one sequence, 100-token prompt: ms per decode token
Every figure is a best: of single training steps, of the prefill and of the decode phase over --repeats
sampling runs. The machine reclaims idle memory pages and is shared with other work, which slows runs in
bursts (docs/log.md, 2026-11-22), so the best is the machine's speed; medians are reported beside it.
The last line printed is one JSON object.

The model is psrlm_ref.model.GPT with the fused attention kernel (attn="sdpa"), i.e. what a PyTorch user
would write; its numerics are tested equal to the literal formula in the reference's tests.

--clock thread times with the calling thread's CPU time instead of the wall clock: with --threads 1 that
is the work itself, whatever else the machine runs (the engine's bench has the same mode, --cpu-time).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import traceback

import torch
import torch.nn.functional as F

from .model import GPT, GPTConfig, KVCache, init_params, is_decayed

# the clock the timed phases use (main() may switch it to the thread's CPU time)
clock = time.perf_counter


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def make_optimizer(model: GPT, lr=3e-4, wd=0.1):
    decay = [p for n, p in model.named_parameters() if is_decayed(n)]
    rest = [p for n, p in model.named_parameters() if not is_decayed(n)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def bench_train(cfg: GPTConfig, batch: int, seq: int, steps: int, compiled: bool, seed=0) -> dict:
    """Times `steps` optimizer steps one by one (after two untimed ones: compilation, allocator warm-up) and
    reports the best step (the machine's speed) and the median (what contention left of it)."""
    torch.manual_seed(seed)
    model = init_params(GPT(cfg, attn_impl="sdpa"), seed)
    opt = make_optimizer(model)
    fwd = model
    if compiled:
        fwd = torch.compile(model)
    g = torch.Generator().manual_seed(seed)
    data = torch.randint(0, cfg.vocab_size, (batch, seq + 1), generator=g)
    x, y = data[:, :-1], data[:, 1:]

    def step():
        opt.zero_grad(set_to_none=True)
        logits = fwd(x)
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    t0 = time.perf_counter()
    step()  # compiles when compiled; warms allocator and kernels either way
    first = time.perf_counter() - t0
    step()
    times = []
    for _ in range(steps):
        t0 = clock()
        step()
        times.append(clock() - t0)
    toks = batch * seq
    return {"tok_s": toks / min(times), "tok_s_median": toks / statistics.median(times),
            "tok_s_steps": [round(toks / t) for t in times], "batch": batch, "seq": seq,
            "first_step_s": first}


def _sample(logits: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=g)


@torch.inference_mode()
def sample_once(model: GPT, prompts: torch.Tensor, n_new: int, cands: int, g: torch.Generator) -> tuple[float, float]:
    """Prefill the prompts, expand to `cands` candidates each (1: no expansion), sample n_new tokens.
    Returns (seconds for prefill + first token's sampling, seconds for the remaining n_new - 1 steps)."""
    B, P = prompts.shape
    t0 = clock()
    cache = KVCache(model.cfg, B, P + n_new - 1)
    logits = model(prompts, cache)[:, -1]
    if cands > 1:
        cache = cache.expand(cands)
        logits = logits.repeat_interleave(cands, dim=0)
    tok = _sample(logits, g)
    t1 = clock()
    for _ in range(n_new - 1):
        logits = model(tok, cache)[:, -1]
        tok = _sample(logits, g)
    t2 = clock()
    return t1 - t0, t2 - t1


def bench_sample(cfg: GPTConfig, n_prompts: int, prompt_len: int, n_new: int, cands: int, repeats: int,
                 seed=0) -> dict:
    if prompt_len + n_new - 1 > cfg.n_ctx:
        raise ValueError(f"prompt {prompt_len} + {n_new} new tokens exceed n_ctx {cfg.n_ctx}")
    model = init_params(GPT(cfg, attn_impl="sdpa"), seed).eval()
    g = torch.Generator().manual_seed(seed)
    prompts = torch.randint(0, cfg.vocab_size, (n_prompts, prompt_len), generator=g)
    sample_once(model, prompts, min(n_new, 4), cands, g)  # warm-up
    runs = [sample_once(model, prompts, n_new, cands, g) for _ in range(repeats)]
    seqs = n_prompts * cands
    # best prefill and best decode phase, each over the runs (contention is bursty: a run's prefill and its
    # decode are rarely both undisturbed); medians show what contention did
    pre, dec = min(a for a, _ in runs), min(b for _, b in runs)
    pre_m, dec_m = statistics.median(a for a, _ in runs), statistics.median(b for _, b in runs)
    return {
        "prompts": n_prompts, "candidates_per_prompt": cands, "sequences": seqs, "prompt_len": prompt_len,
        "new_tokens": n_new,
        "tok_s_incl_prefill": seqs * n_new / (pre + dec),
        "tok_s_excl_prefill": seqs * (n_new - 1) / dec,
        "tok_s_incl_prefill_median": seqs * n_new / (pre_m + dec_m),
        "tok_s_excl_prefill_median": seqs * (n_new - 1) / dec_m,
        "prefill_s": pre,
        "ms_per_decode_step": 1000 * dec / (n_new - 1),
        "runs_s": [[round(a, 5), round(b, 5)] for a, b in runs],
    }


def train_flops_per_token(cfg: GPTConfig, seq: int) -> float:
    """Approximate: 6 x (weights used in matmuls, tied head included) + attention scores and mixing
    (2 matmuls of seq x D per head and layer, x3 for forward + backward)."""
    C, L, Fi, V = cfg.n_embd, cfg.n_layer, cfg.n_inner, cfg.vocab_size
    mat = L * (C * 3 * C + C * C + 2 * C * Fi) + V * C
    return 6 * mat + 3 * 2 * 2 * L * seq * C


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-layer", type=int, required=True)
    ap.add_argument("--n-embd", type=int, required=True)
    ap.add_argument("--n-head", type=int, required=True)
    ap.add_argument("--n-ctx", type=int, required=True)
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--n-inner", type=int, default=None, help="MLP width (default 4 x n_embd)")
    ap.add_argument("--batch", type=int, default=16, help="training sequences per step (default 16)")
    ap.add_argument("--seq", type=int, default=None, help="training sequence length (default n_ctx)")
    ap.add_argument("--train-steps", type=int, default=10, help="timed optimizer steps (default 10)")
    ap.add_argument("--repeats", type=int, default=5, help="timed sampling runs per figure (default 5)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clock", choices=["wall", "thread"], default="wall",
                    help="time with the wall clock (default) or the calling thread's CPU time")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile training figure")
    ap.add_argument("--sample-seqs", type=int, default=64)
    ap.add_argument("--prompt-len", type=int, default=100)
    ap.add_argument("--new-tokens", type=int, default=50)
    ap.add_argument("--candidates", type=int, default=6)
    ap.add_argument("--only", default="train,compile,sample,shared,latency",
                    help="comma-separated subset of: train, compile, sample, shared, latency")
    a = ap.parse_args(argv)
    global clock
    clock = time.thread_time if a.clock == "thread" else time.perf_counter
    torch.set_num_threads(a.threads)
    cfg = GPTConfig(vocab_size=a.vocab, n_ctx=a.n_ctx, n_layer=a.n_layer, n_embd=a.n_embd, n_head=a.n_head,
                    n_inner=a.n_inner)
    seq = a.seq or cfg.n_ctx
    only = set(a.only.split(","))
    out: dict = {
        "bench": "psrlm_ref.bench",
        "config": cfg.to_json(),
        "params": sum(p.numel() for p in GPT(cfg).parameters()),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": _cpu_name(),
        "python": platform.python_version(), "repeats": a.repeats, "dtype": "float32", "clock": a.clock,
    }
    t_start = time.perf_counter()
    # the machine is shared: record how busy it was, so a slow figure can be read for what it is
    out["loadavg_at_start"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None

    def stage(name, fn):
        print(f"[bench] {name} …", flush=True)
        t0 = time.perf_counter()
        try:
            out[name] = fn()
        except Exception as e:  # noqa: BLE001 - a failing stage is a result, not a crash
            out[name] = {"error": f"{type(e).__name__}: {str(e)[:2000]}"}
            traceback.print_exc()
        out[name]["wall_s"] = round(time.perf_counter() - t0, 2)

    fpt = train_flops_per_token(cfg, seq)
    if "train" in only:
        stage("train_eager", lambda: bench_train(cfg, a.batch, seq, a.train_steps, False))
        if "tok_s" in out["train_eager"]:
            out["train_eager"]["approx_gflop_s"] = out["train_eager"]["tok_s"] * fpt / 1e9
    if "compile" in only and not a.no_compile:
        stage("train_compiled", lambda: bench_train(cfg, a.batch, seq, a.train_steps, True))
        if "tok_s" in out["train_compiled"]:
            out["train_compiled"]["approx_gflop_s"] = out["train_compiled"]["tok_s"] * fpt / 1e9
    if "sample" in only:
        stage("sample", lambda: bench_sample(cfg, a.sample_seqs, a.prompt_len, a.new_tokens, 1, a.repeats))
    if "shared" in only:
        stage("sample_shared_prefix",
              lambda: bench_sample(cfg, a.sample_seqs, a.prompt_len, a.new_tokens, a.candidates, a.repeats))
    if "latency" in only:
        def lat():
            r = bench_sample(cfg, 1, a.prompt_len, a.new_tokens, 1, a.repeats)
            med = statistics.median(b for _, b in r["runs_s"]) / (a.new_tokens - 1)
            return {"ms_per_decode_token": r["ms_per_decode_step"], "ms_per_decode_token_median": 1000 * med,
                    "prefill_ms": 1000 * r["prefill_s"],
                    "prompt_len": a.prompt_len, "new_tokens": a.new_tokens}
        stage("latency_batch1", lat)
    out["train_flops_per_token_approx"] = fpt
    out["loadavg_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    out["wall_s"] = round(time.perf_counter() - t_start, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
