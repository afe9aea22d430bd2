"""The command-line oracle (psrlm_ref/oracle.py) on each request kind, as the TypeScript tests will use it:
outputs against direct computations, consistency between equivalent requests, and refusals of bad ones."""
import json
import math
import os
import subprocess
import sys
import unittest

from _util import TINY, TempDir, tiny_checkpoint  # noqa: I001 (sets sys.path)

import torch
from safetensors.torch import load_file

from psrlm_ref import oracle
from psrlm_ref.model import load_checkpoint, sft_loss, token_logps

REF_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(tmp, req, name="out"):
    """Runs the oracle in-process; returns (exit status, result.json, out_dir)."""
    rp = os.path.join(tmp, name + ".json")
    with open(rp, "w") as f:
        json.dump(req, f)
    out = os.path.join(tmp, name)
    status = oracle.main([rp, out])
    with open(os.path.join(out, "result.json")) as f:
        return status, json.load(f), out


def batch():
    g = torch.Generator().manual_seed(11)
    x = torch.randint(2, TINY.vocab_size, (3, 9), generator=g)
    w = (torch.rand(3, 8, generator=g) > 0.3).double()
    w[:, 0] = 0
    return {"tokens": x[:, :-1].tolist(), "targets": x[:, 1:].tolist(), "weights": w.tolist()}


class TestOracle(unittest.TestCase):
    def test_forward(self):
        with TempDir() as tmp:
            ck = tiny_checkpoint(tmp, scale=10.0)
            b = batch()
            st, res, out = run(tmp, {"kind": "forward", "checkpoint": "ck", **b})
            self.assertEqual(st, 0, res)
            model = load_checkpoint(ck)
            logits = model(torch.tensor(b["tokens"]))
            lp = token_logps(logits, torch.tensor(b["targets"]))
            w = torch.tensor(b["weights"], dtype=torch.float32)
            loss = sft_loss(lp, w)
            loss.backward()
            self.assertEqual(res["loss"], loss.item())
            self.assertEqual(res["weight_sum"], float(w.sum()))
            self.assertEqual(res["n_tokens"], int((w != 0).sum()))
            self.assertEqual(res["logp"], lp.detach().double().tolist())
            t = load_file(os.path.join(out, "logits.safetensors"))
            self.assertTrue(torch.equal(t["logits"], logits.detach()))
            grads = load_file(os.path.join(out, "grads.safetensors"))
            for n, p in model.named_parameters():
                self.assertTrue(torch.equal(grads[n], p.grad), n)
            # float64 mode agrees to float32 precision; default targets/weights = shifted tokens, all ones
            st, res64, _ = run(tmp, {"kind": "forward", "checkpoint": "ck", "dtype": "float64", **b}, "o64")
            self.assertAlmostEqual(res64["loss"], res["loss"], places=5)
            st, resd, _ = run(tmp, {"kind": "forward", "checkpoint": "ck", "tokens": b["tokens"]}, "od")
            self.assertEqual(st, 0, resd)
            self.assertEqual(resd["n_tokens"], 3 * 7)
            self.assertEqual([r[-1] for r in resd["logp"]], [0.0, 0.0, 0.0])

    def test_bad_requests_exit_2_naming_the_field(self):
        with TempDir() as tmp:
            tiny_checkpoint(tmp)
            b = batch()
            cases = [
                ({"kind": "forward", **b}, "'checkpoint' is required"),
                ({"kind": "nope"}, "unknown kind 'nope'"),
                ({"kind": "forward", "checkpoint": "ck", "tokens": [[1, 2], [3]]}, "equal length"),
                ({"kind": "forward", "checkpoint": "ck", "tokens": [[1, 2]], "targets": [[2, -1]],
                  "weights": [[1, 1]]}, r"\[0\]\[1\] has weight 1 but no target"),
                ({"kind": "forward", "checkpoint": "ck", "tokens": [[1, 99]]}, "token id 99 >= vocab_size 13"),
                ({"kind": "forward", "checkpoint": "ck", "tokens": [[1] * 13]}, "13 positions exceed n_ctx 12"),
                ({"kind": "forward", "checkpoint": "missing", "tokens": [[1]]}, "checkpoint directory not found"),
                ({"kind": "adamw_step", "checkpoint": "ck", "batch": b, "optimizer": {"lr": 1e-3}},
                 "optimizer: 'weight_decay' is required"),
                ({"kind": "dpo", "checkpoint": "ck", "beta": 0.1, "pairs": [{"prompt": [2], "chosen": [3],
                                                                          "rejected": [4]}]},
                 "'ref_chosen' is required"),
            ]
            for i, (req, pattern) in enumerate(cases):
                st, res, _ = run(tmp, req, f"bad{i}")
                self.assertEqual(st, 2, res)
                self.assertFalse(res["ok"])
                self.assertRegex(res["error"], pattern)

    def test_dpo(self):
        with TempDir() as tmp:
            tiny_checkpoint(tmp, seed=1, scale=10.0, name="pol")
            ref = tiny_checkpoint(tmp, seed=2, scale=10.0, name="ref")
            pairs = [{"prompt": [2, 3, 4], "chosen": [5, 6], "rejected": [7], "final": True},
                     {"prompt": [8], "chosen": [9, 10, 11], "rejected": [12, 2, 3, 4, 5]},
                     {"prompt": [2, 2], "chosen": [], "rejected": [3], "final": False}]
            st, res, out = run(tmp, {"kind": "dpo", "checkpoint": "pol", "reference": "ref", "beta": 0.3,
                                     "pairs": pairs})
            self.assertEqual(st, 0, res)
            # by hand: each sequence scored alone (no padding), summed over completion targets, EOS when final
            eos = 0

            def seq_logp(model, prompt, comp, final):
                seq = prompt + comp + ([eos] if final else [])
                with torch.no_grad():
                    lp = torch.log_softmax(model(torch.tensor([seq])).double()[0], -1)
                return sum(lp[i - 1, seq[i]].item() for i in range(len(prompt), len(seq)))

            pol, refm = load_checkpoint(os.path.join(tmp, "pol")), load_checkpoint(ref)
            zs = []
            for p, r in zip(pairs, res["pairs"]):
                f = p.get("final", False)
                vals = [seq_logp(m, p["prompt"], p[s], f) for m in (pol, refm) for s in ("chosen", "rejected")]
                for k, v in zip(("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected"), vals):
                    self.assertAlmostEqual(r[k], v, places=4, msg=k)
                zs.append(0.3 * ((vals[0] - vals[2]) - (vals[1] - vals[3])))
            self.assertEqual(res["pairs"][2]["policy_chosen"], 0.0)  # empty, non-final completion
            want = sum(math.log1p(math.exp(-z)) for z in zs) / len(zs)
            self.assertAlmostEqual(res["loss"], want, places=5)
            self.assertAlmostEqual(res["accuracy"], sum(z > 0 for z in zs) / 3)
            # the same with precomputed reference log-probs: same loss and gradients
            pairs2 = [{**p, "ref_chosen": r["ref_chosen"], "ref_rejected": r["ref_rejected"]}
                      for p, r in zip(pairs, res["pairs"])]
            st, res2, out2 = run(tmp, {"kind": "dpo", "checkpoint": "pol", "beta": 0.3, "pairs": pairs2}, "o2")
            self.assertEqual(st, 0, res2)
            self.assertAlmostEqual(res2["loss"], res["loss"], places=6)
            g1, g2 = load_file(os.path.join(out, "grads.safetensors")), load_file(os.path.join(out2, "grads.safetensors"))
            for n in g1:
                torch.testing.assert_close(g1[n], g2[n], rtol=1e-5, atol=1e-7)
            # policy == reference: loss log 2
            st, res3, _ = run(tmp, {"kind": "dpo", "checkpoint": "pol", "reference": "pol", "beta": 0.3,
                                    "pairs": pairs}, "o3")
            self.assertAlmostEqual(res3["loss"], math.log(2), places=6)

    def test_dpo_replay(self):
        """IFT replay: loss = the plain DPO loss + w x the records' per-token NLL (each record scored alone, by
        hand), and the gradient is the plain DPO gradient + w x the SFT gradient of the records."""
        with TempDir() as tmp:
            tiny_checkpoint(tmp, seed=1, scale=10.0, name="pol")
            tiny_checkpoint(tmp, seed=2, scale=10.0, name="ref")
            pairs = [{"prompt": [2, 3, 4], "chosen": [5, 6], "rejected": [7], "final": True},
                     {"prompt": [8], "chosen": [9, 10, 11], "rejected": [12, 2, 3, 4, 5]}]
            recs = [{"prompt": [3, 4], "completion": [5, 6, 7]}, {"prompt": [9], "completion": [2], "eos": False}]
            base = {"kind": "dpo", "checkpoint": "pol", "reference": "ref", "beta": 0.3, "pairs": pairs}
            st, plain, out0 = run(tmp, base, "plain")
            self.assertEqual(st, 0, plain)
            st, res, out = run(tmp, {**base, "replay": {"weight": 0.6, "records": recs}}, "replay")
            self.assertEqual(st, 0, res)
            pol = load_checkpoint(os.path.join(tmp, "pol"))
            num, den = 0.0, 0
            for r in recs:
                seq = r["prompt"] + r["completion"] + ([0] if r.get("eos", True) else [])
                with torch.no_grad():
                    lp = torch.log_softmax(pol(torch.tensor([seq])).double()[0], -1)
                num -= sum(lp[i - 1, seq[i]].item() for i in range(len(r["prompt"]), len(seq)))
                den += len(seq) - len(r["prompt"])
            self.assertAlmostEqual(res["replay_nll"], num / den, places=4)
            self.assertAlmostEqual(res["loss"], plain["loss"] + 0.6 * num / den, places=4)
            self.assertNotIn("replay_nll", plain)
            # the replay records as an SFT request (weights 1 on completion targets): its gradient, scaled
            _, rb = oracle._replay_sequences({"replay": {"weight": 1, "records": recs}}, 0, 1, TINY.n_ctx,
                                             TINY.vocab_size)
            st, sft, out2 = run(tmp, {"kind": "forward", "checkpoint": "pol", "tokens": rb[0].tolist(),
                                      "targets": rb[1].tolist(), "weights": rb[2].tolist()}, "sft")
            self.assertEqual(st, 0, sft)
            self.assertAlmostEqual(sft["loss"], num / den, places=4)
            g, g0, gs = (load_file(os.path.join(o, "grads.safetensors")) for o in (out, out0, out2))
            for n in g:
                torch.testing.assert_close(g[n], g0[n] + 0.6 * gs[n], rtol=1e-4, atol=1e-6)
            for bad in ({"weight": 0, "records": recs}, {"weight": 1, "records": []},
                        {"weight": 1, "records": [{"prompt": [], "completion": [3]}]}):
                st, r, _ = run(tmp, {**base, "replay": bad}, "bad")
                self.assertEqual(st, 2, r)
                self.assertIn("replay", r["error"])

    def test_dpo_gradient_finite_difference(self):
        """float64 DPO gradient from the oracle vs a central difference through the oracle's own loss."""
        with TempDir() as tmp:
            ck = tiny_checkpoint(tmp, seed=3, scale=10.0, name="pol")
            pairs = [{"prompt": [2, 3], "chosen": [4, 5], "rejected": [6, 7, 8], "final": True,
                      "ref_chosen": -5.0, "ref_rejected": -7.5}]
            req = {"kind": "dpo", "checkpoint": "pol", "beta": 0.7, "pairs": pairs, "dtype": "float64"}
            st, res, out = run(tmp, req)
            g = load_file(os.path.join(out, "grads.safetensors"))
            model = load_checkpoint(ck, dtype=torch.float64)
            batch = oracle._pair_sequences(pairs, 0, 1, TINY.n_ctx, TINY.vocab_size)
            rc, rr = torch.tensor([-5.0], dtype=torch.float64), torch.tensor([-7.5], dtype=torch.float64)

            def loss():
                s = oracle._seq_logps(model, batch)
                return oracle.dpo_loss(s[0::2], s[1::2], rc, rr, 0.7).item()

            for n in ("wte", "h.1.attn.qkv.weight", "h.0.mlp.fc.bias", "ln_f.weight"):
                p = dict(model.named_parameters())[n].data.view(-1)
                for i in (0, 5, p.numel() - 1):
                    old = p[i].item()
                    with torch.no_grad():
                        p[i] = old + 1e-6
                        lp = loss()
                        p[i] = old - 1e-6
                        lm = loss()
                        p[i] = old
                    fd = (lp - lm) / 2e-6
                    an = g[n].view(-1)[i].item()  # stored as F32
                    self.assertLess(abs(fd - an), 1e-6 + 1e-4 * abs(an), f"{n}[{i}]")

    def test_adamw_steps_and_resume(self):
        with TempDir() as tmp:
            tiny_checkpoint(tmp, scale=5.0)
            b = batch()
            opt = {"lr": 1e-2, "weight_decay": 0.1, "grad_clip": 1.0, "total_steps": 4, "warmup_steps": 1,
                   "min_lr_frac": 0.1}
            st, r1, o1 = run(tmp, {"kind": "adamw_step", "checkpoint": "ck", "batch": b, "steps": 3,
                                   "optimizer": opt}, "a1")
            self.assertEqual(st, 0, r1)
            self.assertEqual([h["step"] for h in r1["steps"]], [1, 2, 3])
            self.assertEqual(r1["steps"][0]["lr"], 1e-2)
            st, r2, o2 = run(tmp, {"kind": "adamw_step", "checkpoint": "ck", "batches": [b, b, b],
                                   "optimizer": opt}, "a2")
            self.assertEqual(r1["steps"], r2["steps"])
            # two steps, then resume from the written state at step 3: identical to three in one go
            st, r3, o3 = run(tmp, {"kind": "adamw_step", "checkpoint": "ck", "batch": b, "steps": 2,
                                   "optimizer": opt}, "a3")
            ck2 = os.path.join(tmp, "ck2")
            os.makedirs(ck2)
            for f in ("config.json", "tokenizer.json"):
                with open(os.path.join(tmp, "ck", f)) as src, open(os.path.join(ck2, f), "w") as dst:
                    dst.write(src.read())
            os.replace(os.path.join(o3, "params.safetensors"), os.path.join(ck2, "model.safetensors"))
            st, r4, o4 = run(tmp, {"kind": "adamw_step", "checkpoint": "ck2", "batch": b, "step": 3,
                                   "state": os.path.join(o3, "optimizer_state.safetensors"), "optimizer": opt}, "a4")
            self.assertEqual(st, 0, r4)
            self.assertEqual(r4["steps"][0], r1["steps"][2])
            p1, p4 = load_file(os.path.join(o1, "params.safetensors")), load_file(os.path.join(o4, "params.safetensors"))
            for n in p1:
                self.assertTrue(torch.equal(p1[n], p4[n]), n)
            # a step moves the parameters; weight decay only touches the decay set
            p0 = load_file(os.path.join(tmp, "ck", "model.safetensors"))
            self.assertFalse(torch.equal(p0["wte"], p1["wte"]))

    def test_greedy_and_encode(self):
        with TempDir() as tmp:
            tiny_checkpoint(tmp, scale=30.0)
            st, res, out = run(tmp, {"kind": "greedy", "checkpoint": "ck", "prompts": [[2, 3], [4, 5, 6, 7]],
                                     "n_new": 8})
            self.assertEqual(st, 0, res)
            self.assertTrue(res["kv_matches_recompute"])
            self.assertEqual([len(s) for s in res["sequences"]], [8, 8])
            lg = load_file(os.path.join(out, "logits.safetensors"))
            self.assertEqual(tuple(lg["logits.1"].shape), (8, TINY.vocab_size))
            self.assertEqual(res["sequences"][1], lg["logits.1"].argmax(-1).tolist())
            st, res, _ = run(tmp, {"kind": "greedy", "checkpoint": "ck", "prompt": [2] * 6, "n_new": 8}, "g2")
            self.assertEqual(st, 2)
            self.assertRegex(res["error"], "need 13 positions > n_ctx 12")
            st, res, _ = run(tmp, {"kind": "encode", "tokenizer": "ck", "texts": ["! #", "x"]}, "e")
            self.assertEqual(res["results"][0], {"ids": [4, 3, 6]})
            self.assertRegex(res["results"][1]["error"], "cannot encode character 'x'")

    def test_nonfinite_numbers_stay_valid_json(self):
        self.assertEqual(oracle._finite({"a": [float("nan"), 1.5], "b": float("-inf")}),
                         {"a": ["NaN", 1.5], "b": "-Infinity"})

    def test_init(self):
        with TempDir() as tmp:
            st, res, out = run(tmp, {"kind": "init", "seed": 4, "config": {"vocab_size": 13, "n_ctx": 12,
                                                                            "n_layer": 2, "n_embd": 8, "n_head": 2}})
            self.assertEqual(st, 0, res)
            m = load_checkpoint(os.path.join(out, res["checkpoint"]))
            self.assertEqual(m.cfg.n_inner, 32)
            self.assertEqual(res["params"], sum(p.numel() for p in m.parameters()))
            self.assertTrue(os.path.isfile(os.path.join(out, "checkpoint", "manifest.json")))
            sd = dict(m.named_parameters())
            self.assertTrue(torch.equal(sd["h.0.ln1.weight"], torch.ones(8)))
            self.assertTrue(torch.equal(sd["h.1.mlp.fc.bias"], torch.zeros(32)))
            st, res, _ = run(tmp, {"kind": "init", "config": {"vocab_size": 13, "n_ctx": 12, "n_layer": 2,
                                                              "n_embd": 9, "n_head": 2}}, "bad")
            self.assertEqual(st, 2)
            self.assertRegex(res["error"], "not divisible")

    def test_command_line(self):
        """The way the TypeScript side calls it: a subprocess, exit status, result.json."""
        with TempDir() as tmp:
            tiny_checkpoint(tmp)
            rp = os.path.join(tmp, "req.json")
            with open(rp, "w") as f:
                json.dump({"kind": "forward", "checkpoint": "ck", "tokens": [[2, 3, 4]]}, f)
            env = {**os.environ, "PYTHONPATH": REF_DIR}
            r = subprocess.run([sys.executable, "-m", "psrlm_ref.oracle", rp, os.path.join(tmp, "o")], env=env,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(tmp, "o", "result.json")) as f:
                self.assertTrue(json.load(f)["ok"])
            r = subprocess.run([sys.executable, "-m", "psrlm_ref.oracle", rp], env=env, capture_output=True,
                               text=True, timeout=120)
            self.assertEqual(r.returncode, 2)
            self.assertIn("usage:", r.stderr)


if __name__ == "__main__":
    unittest.main()
