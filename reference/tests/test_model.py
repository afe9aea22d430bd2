"""The reference model against docs/engine.md: an independent NumPy float64 forward written line by line from
the page's pseudo-code, gradients against finite differences, the KV cache against full recompute, and the
checkpoint format (round trip bit-exact, refusals)."""
import json
import math
import os
import unittest

from _util import TINY, TempDir, tiny_checkpoint, tiny_model  # noqa: I001 (sets sys.path)

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from psrlm_ref.model import (GPT, GPTConfig, KVCache, Tokenizer, default_tokenizer, load_checkpoint,
                             param_shapes, save_checkpoint, sft_loss, token_logps)
from psrlm_ref.oracle import greedy, greedy_recompute


def numpy_forward(P: dict, cfg: GPTConfig, x: list[int]) -> np.ndarray:
    """engine.md "Model", one sequence, loops over heads and positions, float64: shares no code with model.py."""
    C, H = cfg.n_embd, cfg.n_head
    D = C // H
    t = len(x)

    def ln(h, w, b):
        mu = h.mean(-1, keepdims=True)
        var = ((h - mu) ** 2).mean(-1, keepdims=True)  # biased
        return (h - mu) / np.sqrt(var + cfg.ln_eps) * w + b

    def gelu(u):
        return 0.5 * u * (1 + np.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3)))

    h = P["wte"][x] + P["wpe"][:t]
    for l in range(cfg.n_layer):
        p = lambda n: P[f"h.{l}.{n}"]  # noqa: E731
        a = ln(h, p("ln1.weight"), p("ln1.bias"))
        qkv = a @ p("attn.qkv.weight") + p("attn.qkv.bias")
        q, k, v = qkv[:, :C], qkv[:, C:2 * C], qkv[:, 2 * C:]
        y = np.zeros((t, C))
        for j in range(H):
            cols = slice(j * D, (j + 1) * D)
            for i in range(t):
                s = np.array([q[i, cols] @ k[kk, cols] / math.sqrt(D) for kk in range(i + 1)])
                w = np.exp(s - s.max())
                w /= w.sum()
                y[i, cols] = w @ v[:i + 1, cols]
        h = h + y @ p("attn.proj.weight") + p("attn.proj.bias")
        m = ln(h, p("ln2.weight"), p("ln2.bias"))
        u = gelu(m @ p("mlp.fc.weight") + p("mlp.fc.bias"))
        h = h + u @ p("mlp.proj.weight") + p("mlp.proj.bias")
    h = ln(h, P["ln_f.weight"], P["ln_f.bias"])
    return h @ P["wte"].T


class TestForward(unittest.TestCase):
    def test_matches_independent_numpy_forward(self):
        model = tiny_model(seed=3, scale=20.0, dtype=torch.float64)
        P = {n: p.detach().numpy() for n, p in model.named_parameters()}
        g = torch.Generator().manual_seed(0)
        x = torch.randint(0, TINY.vocab_size, (2, TINY.n_ctx), generator=g)
        with torch.no_grad():
            logits = model(x).numpy()
        for b in range(2):
            ref = numpy_forward(P, TINY, x[b].tolist())
            np.testing.assert_allclose(logits[b], ref, rtol=0, atol=1e-12)
        # and the float32 model is within float32 rounding of it
        m32 = model.to(torch.float32)
        with torch.no_grad():
            l32 = m32(x).to(torch.float64).numpy()
        np.testing.assert_allclose(l32[0], numpy_forward(P, TINY, x[0].tolist()), rtol=0, atol=1e-5)

    def test_fused_attention_equals_literal(self):
        model = tiny_model(seed=4, scale=20.0)
        x = torch.randint(0, TINY.vocab_size, (3, 9), generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            a = model(x)
            model.set_attn_impl("sdpa")
            b = model(x)
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)

    def test_causal_prefix_independence(self):
        # logits at position i depend on x[0..i] only
        model = tiny_model(seed=5, scale=20.0, dtype=torch.float64)
        x = torch.randint(0, TINY.vocab_size, (1, 10), generator=torch.Generator().manual_seed(2))
        y = x.clone()
        y[0, 6:] = (y[0, 6:] + 1) % TINY.vocab_size
        with torch.no_grad():
            torch.testing.assert_close(model(x)[0, :6], model(y)[0, :6], rtol=0, atol=1e-13)

    def test_rejects_overlong_and_bad_ids(self):
        model = tiny_model()
        with self.assertRaisesRegex(ValueError, "exceeds n_ctx"):
            model(torch.zeros(1, TINY.n_ctx + 1, dtype=torch.long))
        with self.assertRaisesRegex(ValueError, "out of range"):
            model(torch.tensor([[TINY.vocab_size]]))


class TestGradients(unittest.TestCase):
    def test_gradients_match_finite_differences(self):
        """Autograd (float64) vs central differences of the SFT loss for sampled coordinates of every
        parameter; then the float32 gradients the oracle reports vs the float64 ones."""
        model = tiny_model(seed=6, scale=20.0, dtype=torch.float64)
        g = torch.Generator().manual_seed(3)
        B, t = 2, 10
        x = torch.randint(0, TINY.vocab_size, (B, t + 1), generator=g)
        tokens, targets = x[:, :-1], x[:, 1:].clone()
        weights = torch.rand(B, t, generator=g, dtype=torch.float64)
        weights[:, :3] = 0  # a "prompt"
        targets[0, :2] = -1  # ignored positions

        def loss_fn():
            return sft_loss(token_logps(model(tokens), targets), weights)

        model.zero_grad()
        loss_fn().backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        eps = 1e-6
        for n, p in model.named_parameters():
            flat = p.data.view(-1)
            idx = torch.randperm(flat.numel(), generator=g)[:6].tolist()
            # wte rows of tokens that occur: make sure some sampled coordinates matter
            if n == "wte":
                idx += [int(tokens[0, 0]) * TINY.n_embd, int(targets[1, 5]) * TINY.n_embd + 1]
            for i in idx:
                old = flat[i].item()
                with torch.no_grad():
                    flat[i] = old + eps
                    lp = loss_fn().item()
                    flat[i] = old - eps
                    lm = loss_fn().item()
                    flat[i] = old
                fd = (lp - lm) / (2 * eps)
                an = grads[n].view(-1)[i].item()
                self.assertLess(abs(fd - an), 1e-7 + 1e-5 * abs(an), f"{n}[{i}]: finite diff {fd} vs autograd {an}")

        m32 = model.to(torch.float32)
        m32.zero_grad()
        sft_loss(token_logps(m32(tokens), targets), weights.float()).backward()
        for n, p in m32.named_parameters():
            ref = grads[n]
            err = (p.grad.double() - ref).abs().max().item()
            self.assertLess(err, 1e-5 * max(1.0, ref.abs().max().item()), f"{n}: float32 grad off by {err}")


class TestKVCache(unittest.TestCase):
    def test_greedy_kv_equals_recompute(self):
        model = tiny_model(seed=7, scale=30.0)
        with torch.no_grad():
            for prompt in ([1, 2, 3], [5], [4, 4, 4, 4, 4, 4]):
                n = TINY.n_ctx - len(prompt) + 1
                ids, lg = greedy(model, prompt, n, False, 0)
                ids2, lg2 = greedy_recompute(model, prompt, n, False, 0)
                self.assertEqual(ids, ids2)
                self.assertEqual(len(ids), n)
                torch.testing.assert_close(lg, lg2, rtol=0, atol=1e-5)

    def test_chunked_prefill_and_expand(self):
        """Cache filled in chunks (t > 1 with past > 0), and a cache expanded k-fold for candidates that share
        a prompt, give the logits of a full forward."""
        model = tiny_model(seed=8, scale=30.0)
        x = torch.randint(0, TINY.vocab_size, (2, 11), generator=torch.Generator().manual_seed(4))
        with torch.no_grad():
            full = model(x)
            cache = KVCache(TINY, 2, 11)
            parts = [model(x[:, :4], cache), model(x[:, 4:9], cache), model(x[:, 9:], cache)]
            torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=0, atol=1e-5)
            cache = KVCache(TINY, 2, 11)
            model(x[:, :5], cache)
            big = cache.expand(3)
            cont = torch.randint(0, TINY.vocab_size, (6, 3), generator=torch.Generator().manual_seed(5))
            out = model(cont, big)
            for r in range(6):
                seq = torch.cat([x[r // 3, :5], cont[r]]).unsqueeze(0)
                torch.testing.assert_close(out[r], model(seq)[0, 5:], rtol=0, atol=1e-5)


class TestCheckpoint(unittest.TestCase):
    def test_round_trip_bit_exact(self):
        with TempDir() as tmp:
            model = tiny_model(seed=9, scale=5.0)
            tok = default_tokenizer(TINY.vocab_size)
            save_checkpoint(model, tok, os.path.join(tmp, "a"), manifest={"seed": 9})
            back = load_checkpoint(os.path.join(tmp, "a"))
            for (n, p), (n2, q) in zip(model.named_parameters(), back.named_parameters()):
                self.assertEqual(n, n2)
                self.assertTrue(torch.equal(p.view(torch.int32), q.view(torch.int32)), n)
            self.assertEqual(back.tokenizer, tok)
            self.assertEqual(back.cfg, TINY)
            with open(os.path.join(tmp, "a", "config.json")) as f:
                self.assertEqual(json.load(f), {"arch": "psrlm-gpt", "vocab_size": 13, "n_ctx": 12, "n_layer": 2,
                                                "n_embd": 8, "n_head": 2, "n_inner": 12, "ln_eps": 1e-5})
            # the file's own names, shapes and dtype are engine.md's
            raw = load_file(os.path.join(tmp, "a", "model.safetensors"))
            self.assertEqual({n: tuple(t.shape) for n, t in raw.items()}, param_shapes(TINY))
            self.assertTrue(all(t.dtype == torch.float32 for t in raw.values()))
            # save again from the loaded model: identical bytes
            save_checkpoint(back, tok, os.path.join(tmp, "b"))
            with open(os.path.join(tmp, "a", "model.safetensors"), "rb") as fa, \
                    open(os.path.join(tmp, "b", "model.safetensors"), "rb") as fb:
                self.assertEqual(fa.read(), fb.read())
            self.assertEqual([f for f in os.listdir(os.path.join(tmp, "b")) if f.endswith(".tmp")], [])

    def test_refuses_bad_checkpoints(self):
        with TempDir() as tmp:
            ck = tiny_checkpoint(tmp)
            st = os.path.join(ck, "model.safetensors")
            good = load_file(st)

            def with_tensors(t, pattern):
                save_file(t, st)
                with self.assertRaisesRegex(ValueError, pattern):
                    load_checkpoint(ck)

            with_tensors({k: v for k, v in good.items() if k != "h.1.mlp.fc.bias"}, r"missing tensors \['h.1.mlp.fc.bias'\]")
            with_tensors({**good, "lm_head": good["wte"].clone()}, r"unexpected tensors \['lm_head'\]")
            with_tensors({**good, "h.0.attn.qkv.weight": good["h.0.attn.qkv.weight"].t().contiguous()},
                         r"h.0.attn.qkv.weight has shape \[24, 8\], expected \[8, 24\]")
            with_tensors({**good, "wpe": good["wpe"].double()}, "wpe has dtype torch.float64, expected F32")
            save_file(good, st)
            os.unlink(os.path.join(ck, "tokenizer.json"))
            with self.assertRaisesRegex(FileNotFoundError, "tokenizer.json is missing"):
                load_checkpoint(ck)


class TestTokenizer(unittest.TestCase):
    def test_greedy_longest_match_and_specials(self):
        tok = Tokenizer({"type": "psrlm-char", "version": 1,
                         "tokens": ["<|eos|>", "<|pad|>", "a", "b", "ab", "abc", "<", "|", "e", "o", "s", ">"],
                         "special": {"eos": 0, "pad": 1}})
        self.assertEqual(tok.encode("abcab"), [5, 4])
        self.assertEqual(tok.encode("abab"), [4, 4])
        self.assertEqual(tok.encode("aab"), [2, 4])
        self.assertEqual(tok.encode(""), [])
        # the text of a special token is encoded as ordinary characters, never as the special id
        self.assertEqual(tok.encode("<|eos|>"), [6, 7, 8, 9, 10, 7, 11])
        self.assertEqual(tok.decode([5, 0]), "abc<|eos|>")
        with self.assertRaisesRegex(ValueError, r"cannot encode character 'z' \(U\+007A\) at offset 2"):
            tok.encode("abz")

    def test_default_vocabulary_is_one_token_per_character(self):
        tok = Tokenizer(default_tokenizer(100))
        text = "Step 1: 71-17=54\n"
        ids = tok.encode(text)
        self.assertEqual(len(ids), len(text))
        self.assertEqual(tok.decode(ids), text)
        self.assertNotIn(tok.eos, ids)


if __name__ == "__main__":
    unittest.main()
