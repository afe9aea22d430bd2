"""Losses and optimiser against docs/engine.md ("Losses", "Optimiser"): values computed by hand with the math
module, the hand-written AdamW against torch.optim.AdamW, the schedule and clipping at known points."""
import math
import unittest

from _util import TINY, tiny_model  # noqa: I001 (sets sys.path)

import torch

from psrlm_ref.model import chosen_nll, dpo_loss, is_decayed, sft_loss, token_logps
from psrlm_ref.oracle import adamw_update, clip_grads, lr_at


def log_sigmoid(z):
    return -math.log1p(math.exp(-z))


class TestLosses(unittest.TestCase):
    def test_token_logp_and_sft_by_hand(self):
        logits = torch.tensor([[[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]]], dtype=torch.float64)
        targets = torch.tensor([[2, 0]])
        lse0 = math.log(math.e ** 1 + math.e ** 2 + math.e ** 3)
        lse1 = math.log(math.e ** 0.5 + math.e ** -1 + 1)
        lp = token_logps(logits, targets)
        self.assertAlmostEqual(lp[0, 0].item(), 3 - lse0, places=14)
        self.assertAlmostEqual(lp[0, 1].item(), 0.5 - lse1, places=14)
        w = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
        self.assertAlmostEqual(sft_loss(lp, w).item(), -(0.5 - lse1), places=14)
        w = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
        self.assertAlmostEqual(sft_loss(lp, w).item(), -((3 - lse0) + (0.5 - lse1)) / 2, places=14)
        w = torch.tensor([[0.5, 2.0]], dtype=torch.float64)
        num = -(0.5 * (3 - lse0) + 2 * (0.5 - lse1))
        self.assertAlmostEqual(sft_loss(lp, w, "weight_sum").item(), num / 2.5, places=14)
        self.assertAlmostEqual(sft_loss(lp, w, "count").item(), num / 2, places=14)
        self.assertAlmostEqual(sft_loss(lp, w, "none").item(), num, places=14)
        # ignored targets (-1) give 0 and no error
        self.assertEqual(token_logps(logits, torch.tensor([[-1, 0]]))[0, 0].item(), 0.0)

    def test_dpo_by_hand(self):
        pc = torch.tensor([-1.0, -7.25], dtype=torch.float64)
        pr = torch.tensor([-2.0, -3.0], dtype=torch.float64)
        rc = torch.tensor([-1.5, -7.0], dtype=torch.float64)
        rr = torch.tensor([-1.0, -3.5], dtype=torch.float64)
        beta = 0.5
        # pair 0: z = 0.5 * ((-1 + 1.5) - (-2 + 1)) = 0.75;  pair 1: z = 0.5 * ((-0.25) - (0.5)) = -0.375
        want = -(log_sigmoid(0.75) + log_sigmoid(-0.375)) / 2
        self.assertAlmostEqual(dpo_loss(pc, pr, rc, rr, beta).item(), want, places=14)
        self.assertAlmostEqual(want, (0.38687100611489994 + 0.89812326413984) / 2, places=14)  # log(1+e^-0.75), log(1+e^0.375)
        # policy == reference: log 2
        self.assertAlmostEqual(dpo_loss(pc, pr, pc, pr, 3.0).item(), math.log(2), places=15)
        # no overflow far out
        big = torch.tensor([1e4], dtype=torch.float64)
        self.assertEqual(dpo_loss(big, -big, big * 0, big * 0, 1.0).item(), 0.0)
        self.assertAlmostEqual(dpo_loss(-big, big, big * 0, big * 0, 1.0).item(), 2e4, places=6)

    def test_chosen_nll_by_hand(self):
        # chosen sides of 3 and 5 tokens with log-probs -1 and -7.25: (1 + 7.25) / 8 per token
        pc = torch.tensor([-1.0, -7.25], dtype=torch.float64)
        self.assertAlmostEqual(chosen_nll(pc, 8).item(), 1.03125, places=15)
        with self.assertRaises(ValueError):
            chosen_nll(pc, 0)


class TestOptimiser(unittest.TestCase):
    def test_decay_set(self):
        names = [n for n, _ in tiny_model().named_parameters()]
        decayed = sorted(n for n in names if is_decayed(n))
        self.assertEqual(decayed, sorted(f"h.{l}.{s}" for l in range(TINY.n_layer) for s in
                                         ("attn.qkv.weight", "attn.proj.weight", "mlp.fc.weight", "mlp.proj.weight")))

    def test_schedule_points(self):
        opt = {"lr": 1.0, "total_steps": 6, "warmup_steps": 2, "min_lr_frac": 0.1}
        self.assertAlmostEqual(lr_at(1, opt), 0.5, places=15)
        self.assertAlmostEqual(lr_at(2, opt), 1.0, places=15)
        self.assertAlmostEqual(lr_at(3, opt), 0.1 + 0.9 * (1 + math.cos(math.pi / 4)) / 2, places=15)
        self.assertAlmostEqual(lr_at(4, opt), 0.55, places=15)
        self.assertAlmostEqual(lr_at(6, opt), 0.1, places=15)
        self.assertAlmostEqual(lr_at(9, opt), 0.1, places=15)  # past the end: stays at the floor
        self.assertEqual(lr_at(5, {"lr": 0.3}), 0.3)  # no schedule: constant
        self.assertAlmostEqual(lr_at(1, {"lr": 1.0, "total_steps": 3, "warmup_steps": 0, "min_lr_frac": 0}), 0.75)

    def test_clipping(self):
        g = {"a": torch.tensor([3.0, 0.0]), "b": torch.tensor([[4.0]])}
        norm, scale = clip_grads(g, 1.0)
        self.assertAlmostEqual(norm, 5.0)
        self.assertAlmostEqual(scale, 0.2)
        self.assertTrue(torch.allclose(g["a"], torch.tensor([0.6, 0.0])))
        g = {"a": torch.tensor([0.3, 0.4])}
        self.assertEqual(clip_grads(g, 1.0)[1], 1.0)
        g = {"a": torch.tensor([30.0, 40.0])}
        self.assertEqual(clip_grads(g, 0.0), (50.0, 1.0))

    def test_adamw_matches_torch(self):
        """engine.md's AdamW, written out by hand, equals torch.optim.AdamW with the decay set as two param
        groups and the scheduled lr set before each step (float64: only reassociation separates them)."""
        model = tiny_model(seed=1, scale=5.0, dtype=torch.float64)
        twin = tiny_model(seed=1, scale=5.0, dtype=torch.float64)
        opt = {"lr": 3e-2, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.1, "grad_clip": 0,
               "total_steps": 5, "warmup_steps": 2, "min_lr_frac": 0.1}
        decay = [p for n, p in twin.named_parameters() if is_decayed(n)]
        rest = [p for n, p in twin.named_parameters() if not is_decayed(n)]
        topt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                                 lr=opt["lr"], betas=(0.9, 0.95), eps=1e-8, foreach=False)
        params = {n: p.data for n, p in model.named_parameters()}
        m = {n: torch.zeros_like(p) for n, p in params.items()}
        v = {n: torch.zeros_like(p) for n, p in params.items()}
        g = torch.Generator().manual_seed(2)
        for s in range(1, 6):
            grads = {n: torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.1 for n, p in params.items()}
            adamw_update(params, grads, m, v, s, lr_at(s, opt), opt)
            for n, p in twin.named_parameters():
                p.grad = grads[n].clone()
            for grp in topt.param_groups:
                grp["lr"] = lr_at(s, opt)
            topt.step()
        for (n, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
            torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14, msg=n)


if __name__ == "__main__":
    unittest.main()
