"""The bridge's tensors, read from TRL's own collators: no EOS after a non-final step, EOS after a final one,
loss only on completions, and the token-boundary contract catching drift (python -m unittest discover trainer/tests)."""
import json
import math
import os
import tempfile
import unittest
import unittest.mock

import torch

from psrlm_trl import tiny
from psrlm_trl.data import ContractError, DataError, Encoder, check_contract
from psrlm_trl.train import build_trainer, load_config

PAIRS = [
    {"prompt": "Solve step by step.\nProblem: 2+3*4\n", "chosen": "Step 1: 3*4 = 12\n", "rejected": "Step 1: 2+3 = 5\n",
     "chosen_final": False, "rejected_final": False},
    {"prompt": "Solve step by step.\nProblem: 2+3*4\nStep 1: 3*4 = 12\n", "chosen": "Step 2: 2+12 = \\boxed{14}\n",
     "rejected": "Step 2: 2+12 = 15\n", "chosen_final": True, "rejected_final": False},
    {"prompt": "Solve step by step.\nProblem: 7-1\n", "chosen": "Step 1: 7-1 = \\boxed{6}\n", "rejected": "Step 1: 7-1 = \\boxed{5}\n",
     "chosen_final": True, "rejected_final": True},
]


class BridgeTensors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="psrlm-trl-test-")
        cls.model = os.path.join(cls.dir, "m0")
        tiny.build(cls.model, layers=1, hidden=64, heads=1, ctx=256)

    def config(self, task, rows, **kw):
        data = os.path.join(self.dir, f"{task}.jsonl")
        with open(data, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        cfg = {"task": task, "model": self.model, "output": os.path.join(self.dir, "out"), "data": data, "lr": 1e-3,
               "epochs": 1, "batch_size": len(rows), "per_device_batch_size": len(rows), "seed": 1, **kw}
        path = os.path.join(self.dir, f"{task}.config.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return load_config(path)

    def batch(self, trainer):
        return next(iter(trainer.get_train_dataloader()))

    def test_dpo_eos_only_after_final_steps(self):
        trainer, _ = build_trainer(self.config("dpo", PAIRS), os.path.join(self.dir, "tmp"))
        eos = trainer.processing_class.eos_token_id
        b = self.batch(trainer)
        ids, mask = b["input_ids"], b["completion_mask"]
        n = len(PAIRS)
        self.assertEqual(ids.shape[0], 2 * n)  # chosen rows, then rejected rows
        seen = set()
        for row in range(2 * n):
            # the collator orders by the sampler: find the pair by its completion text
            comp = ids[row][mask[row] == 1].tolist()
            text = trainer.processing_class.decode([t for t in comp if t != eos])
            side = "chosen" if row < n else "rejected"
            pair = next(p for p in PAIRS if p[side] == text)
            final = pair[f"{side}_final"]
            seen.add((PAIRS.index(pair), side))
            self.assertEqual(comp[-1] == eos, final, f"{side} of pair {PAIRS.index(pair)}: last label token {comp[-1]}, final={final}")
            self.assertEqual(comp.count(eos), 1 if final else 0, "EOS appears only as the last token of a final step")
            # nothing after the completion is trained on (padding is masked)
            last = int(mask[row].nonzero().max())
            self.assertTrue(bool((mask[row][last + 1:] == 0).all()))
        self.assertEqual(len(seen), 2 * n)

    def test_dpo_nll_alpha_adds_the_chosen_per_token_nll(self):
        # at the start the policy equals its frozen reference, so the sigmoid term is log 2 and the rest is
        # alpha times the chosen rows' per-token NLL, computed here by hand from the model's logits
        alpha = 0.5
        trainer, _ = build_trainer(self.config("dpo", PAIRS, nll_alpha=alpha), os.path.join(self.dir, "tmp"))
        self.assertEqual(list(trainer.args.loss_type), ["sigmoid", "sft"])
        self.assertEqual(list(trainer.args.loss_weights), [1.0, alpha])
        b = self.batch(trainer)
        n = len(PAIRS)
        with torch.no_grad():
            loss = float(trainer.compute_loss(trainer.model, b))
            ids = b["input_ids"]
            logits = trainer.model(input_ids=ids, attention_mask=b["attention_mask"]).logits
            logp = torch.log_softmax(logits[:, :-1].double(), -1).gather(-1, ids[:, 1:, None])[..., 0]
            m = b["completion_mask"][:, 1:].double()
            nll = float(-(logp[:n] * m[:n]).sum() / m[:n].sum())
        self.assertAlmostEqual(loss, math.log(2) + alpha * nll, places=4)
        with self.assertRaises(DataError):
            self.config("dpo", PAIRS, nll_alpha=-1)

    def test_dpo_replay_adds_the_replay_records_per_token_nll(self):
        # IFT replay: at the start the sigmoid term is log 2 (policy = frozen reference), and the rest is
        # weight times the replay records' per-token NLL, computed here by hand from the model's logits. Two
        # records and per_pair 1 with three pairs: every draw takes both, so the hand computation needs no draw.
        recs = [{"prompt": "Solve step by step.\nProblem: 5+5\n", "completion": "Step 1: 5+5 = \\boxed{10}\n"},
                {"prompt": "Problem: 9-2\n", "completion": "Step 1: 9-2 = 7\n", "eos": False}]
        data = os.path.join(self.dir, "replay.jsonl")
        with open(data, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in recs)
        w = 0.7
        trainer, _ = build_trainer(self.config("dpo", PAIRS, replay={"data": data, "weight": w, "per_pair": 1}),
                                   os.path.join(self.dir, "tmp"))
        b = self.batch(trainer)
        trainer.model.train()
        with torch.no_grad():
            loss = float(trainer.compute_loss(trainer.model, b))
            enc = Encoder(trainer.processing_class)
            num, den = 0.0, 0
            for r in recs:
                p = enc.enc(r["prompt"])
                c = enc.enc(r["completion"]) + ([enc.eos] if r.get("eos", True) else [])
                ids = torch.tensor([p + c])
                logits = trainer.model(input_ids=ids).logits
                logp = torch.log_softmax(logits[0, :-1].double(), -1).gather(-1, ids[0, 1:, None])[..., 0]
                num -= float(logp[len(p) - 1:].sum())
                den += len(c)
        self.assertAlmostEqual(loss, math.log(2) + w * num / den, places=4)
        self.assertEqual(trainer._metrics["train"]["replay_nll"], [unittest.mock.ANY])
        self.assertAlmostEqual(trainer._metrics["train"]["replay_nll"][0], num / den, places=4)
        # the draw: at least one record, per_pair per pair, at most the pool; distinct; the same on a rerun
        from psrlm_trl.replay import Replay, draw_count

        self.assertEqual([draw_count(0.5, n, 10) for n in (1, 2, 3, 8, 40)], [1, 1, 2, 4, 10])
        many = os.path.join(self.dir, "replay-many.jsonl")
        with open(many, "w") as f:
            f.writelines(json.dumps({"prompt": f"Q{i}\n", "completion": f"A{i}\n"}) + "\n" for i in range(20))
        a, b2 = (Replay(enc, {"data": many, "weight": 1, "per_pair": 0.5}, 3) for _ in range(2))
        da = [a.draw(8) for _ in range(3)]
        self.assertEqual(da, [b2.draw(8) for _ in range(3)])
        self.assertTrue(all(len(d) == 4 and len(set(d)) == 4 for d in da))
        self.assertNotEqual(da[0], da[1])
        for bad in ({"data": data, "weight": 0, "per_pair": 1}, {"data": data, "weight": 1, "per_pair": -1},
                    {"data": data, "weight": 1, "per_pair": 1, "wieght": 1}, {"weight": 1, "per_pair": 1}):
            with self.assertRaises(DataError):
                self.config("dpo", PAIRS, replay=bad)
        with self.assertRaisesRegex(DataError, "task dpo only"):
            self.config("sft", [{"prompt": "Q\n", "completion": "A\n"}],
                        replay={"data": data, "weight": 1, "per_pair": 1})

    def test_dpo_prompt_tokens_are_not_trained(self):
        trainer, data = build_trainer(self.config("dpo", PAIRS[:1]), os.path.join(self.dir, "tmp"))
        b = self.batch(trainer)
        p = len(data[0]["prompt_ids"])
        self.assertTrue(bool((b["completion_mask"][:, :p] == 0).all()))
        self.assertTrue(bool((b["completion_mask"][:, p] == 1).all()))

    def test_sft_labels(self):
        rows = [{"prompt": "Q: 1+1\n", "completion": "Step 1: 1+1 = \\boxed{2}\n", "eos": True},
                {"prompt": "Judge.\nA: x\nB: y\n", "completion": "[[A]]", "eos": False}]
        trainer, data = build_trainer(self.config("sft", rows), os.path.join(self.dir, "tmp"))
        eos = trainer.processing_class.eos_token_id
        b = self.batch(trainer)
        for row in range(2):
            labels = b["labels"][row]
            ids = b["input_ids"][row]
            trained = ids[labels != -100].tolist()
            text = trainer.processing_class.decode([t for t in trained if t != eos])
            r = next(r for r in rows if r["completion"] == text)
            self.assertEqual(trained[-1] == eos, r["eos"])
            self.assertEqual(int((labels != -100).sum()), len(Encoder(trainer.processing_class).enc(r["completion"])) + (1 if r["eos"] else 0))

    def test_dpo_empty_final_side_is_eos_alone(self):
        # the search's candidate "" with finish eos (the model ended at once) is a final step: EOS alone
        enc = Encoder(self._tok())
        p = {"prompt": "Solve step by step.\nProblem: 7-1\nStep 1: 7-1 = 6\n", "chosen": "", "rejected": "Step 2: 6\n",
             "chosen_final": True, "rejected_final": False}
        self.assertEqual(enc.pair(p, "x")["chosen_ids"], [enc.eos])
        with self.assertRaisesRegex(DataError, "field 'rejected' must be a non-empty string"):
            enc.pair({**p, "chosen": "Step 2: 6\n", "rejected": ""}, "x")

    def test_dpo_continues_an_adapter_checkpoint_with_a_frozen_copy_as_reference(self):
        # M_t saved as a LoRA adapter (lora.merge: false): the bridge continues that adapter on its base
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM

        adapter = os.path.join(self.dir, "adapter")
        m = get_peft_model(AutoModelForCausalLM.from_pretrained(self.model),
                           LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM", init_lora_weights=False))
        m.save_pretrained(adapter)
        self._tok().save_pretrained(adapter)
        cfg = self.config("dpo", PAIRS, model=adapter, lora={"r": 4, "merge": False})
        self.assertEqual((cfg["model"], cfg["adapter"]), (os.path.abspath(self.model), adapter))
        trainer, _ = build_trainer(cfg, os.path.join(self.dir, "tmp"))
        peft_model = trainer.accelerator.unwrap_model(trainer.model)
        self.assertEqual(sorted(peft_model.peft_config), ["default", "ref"])
        params = dict(peft_model.named_parameters())
        trained = {n for n, q in params.items() if q.requires_grad}
        self.assertTrue(trained and all(".default." in n for n in trained), "only the continued adapter trains")
        for n, q in params.items():
            if ".default." in n:  # the reference starts as an exact copy of M_t's adapter (not the bare base)
                self.assertTrue(torch.equal(q, params[n.replace(".default.", ".ref.")]), n)
        # an adapter whose base is not here says so
        with open(os.path.join(adapter, "adapter_config.json")) as f:
            ac = json.load(f)
        with open(os.path.join(adapter, "adapter_config.json"), "w") as f:
            json.dump({**ac, "base_model_name_or_path": os.path.join(self.dir, "nowhere")}, f)
        with self.assertRaisesRegex(DataError, "base model .* is not a directory here"):
            self.config("dpo", PAIRS, model=adapter)

    def _tok(self):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.model)

    def test_contract_detects_drift(self):
        from transformers import AutoTokenizer

        enc = Encoder(AutoTokenizer.from_pretrained(self.model))
        good = [{**p, **enc.pair(p, "x")} for p in PAIRS]
        path = os.path.join(self.dir, "contract.json")
        with open(path, "w") as f:
            json.dump({"kind": "dpo", "records": good}, f)
        self.assertEqual(check_contract(enc, path), len(PAIRS))
        # the TypeScript side put the boundary one token later (a merge across prompt and step)
        bad = [dict(r) for r in good]
        bad[1]["prompt_ids"] = bad[1]["prompt_ids"] + bad[1]["chosen_ids"][:1]
        bad[1]["chosen_ids"] = bad[1]["chosen_ids"][1:]
        with open(path, "w") as f:
            json.dump({"kind": "dpo", "records": bad}, f)
        with self.assertRaises(ContractError) as cm:
            check_contract(enc, path)
        self.assertIn("record 2, field prompt_ids", str(cm.exception))
        # EOS after a non-final step on one side only
        bad = [dict(r) for r in good]
        bad[0]["chosen_ids"] = bad[0]["chosen_ids"] + [enc.eos]
        with open(path, "w") as f:
            json.dump({"kind": "dpo", "records": bad}, f)
        with self.assertRaisesRegex(ContractError, "field chosen_ids"):
            check_contract(enc, path)


if __name__ == "__main__":
    unittest.main()
