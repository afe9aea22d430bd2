"""The bridge on several ranks, as far as CPUs show it: two real ranks (torchrun, gloo) share one training set
and TRL's reference log-prob cache; the trainer arguments exist before the model loads (ZeRO-3 partitioned
loading); a rank exits when the pipeline that started it is gone; the status file keeps a failure's kind
whatever the exit status; a LoRA model is merged in a process of its own (python -m unittest discover
trainer/tests). Only a GPU node shows NCCL, bf16 and ZeRO-3 itself (trainer/README.md)."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import weakref
from unittest import mock

from psrlm_trl import tiny
from psrlm_trl.tether import start_time
from psrlm_trl.train import build_trainer, load_config, main

PAIRS = [
    {"prompt": "Solve.\nProblem: 2+3*4\n", "chosen": "Step 1: 3*4 = 12\n", "rejected": "Step 1: 2+3 = 5\n"},
    {"prompt": "Solve.\nProblem: 7-1\n", "chosen": "Step 1: 7-1 = \\boxed{6}\n", "rejected": "Step 1: 7-1 = 5\n",
     "chosen_final": True, "rejected_final": True},
] * 2
TRAINER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# shared_dataset on each rank, then the name TRL gives the reference log-prob cache (dpo_trainer.py:
# dataset._get_cache_file_path(fingerprint)), printed per rank
CACHE_NAME = """
import json, os, sys
from transformers import TrainingArguments
from psrlm_trl.dataset import shared_dataset
args = TrainingArguments(output_dir=sys.argv[1], use_cpu=True, report_to=[])
ds = shared_dataset(json.load(open(sys.argv[2])), sys.argv[1] + ".data", args)
print("CACHE", os.environ["RANK"], ds._fingerprint, ds._get_cache_file_path(ds._fingerprint), flush=True)
"""


def env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (TRAINER, os.environ.get("PYTHONPATH")) if p),
            "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}


class Ranks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="psrlm-trl-ranks-")
        cls.model = os.path.join(cls.dir, "m0")
        tiny.build(cls.model, layers=1, hidden=64, heads=1, ctx=256)

    def config(self, name, rows=PAIRS, **kw):
        data = os.path.join(self.dir, f"{name}.jsonl")
        with open(data, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        cfg = {"task": "dpo", "model": self.model, "output": os.path.join(self.dir, name), "data": data, "lr": 1e-3,
               "epochs": 1, "batch_size": 4, "per_device_batch_size": 1, "seed": 1, **kw}
        path = os.path.join(self.dir, f"{name}.config.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def status(self, name):
        with open(os.path.join(self.dir, f"{name}.status.json")) as f:
            return json.load(f)

    def torchrun(self, *args):
        return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                               *args], env=env(), cwd=self.dir, capture_output=True, text=True, timeout=600)

    def test_two_ranks_share_the_training_set_and_the_reference_cache(self):
        rows = os.path.join(self.dir, "rows.json")
        with open(rows, "w") as f:
            json.dump([{"prompt_ids": [1, 2], "chosen_ids": [3], "rejected_ids": [4]}] * 3, f)
        script = os.path.join(self.dir, "cache_name.py")
        with open(script, "w") as f:
            f.write(CACHE_NAME)
        r = self.torchrun(script, os.path.join(self.dir, "names"), rows)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        names = {ln.split()[1]: ln.split()[2:] for ln in r.stdout.splitlines() if ln.startswith("CACHE ")}
        self.assertEqual(sorted(names), ["0", "1"])
        self.assertEqual(names["0"], names["1"], "both ranks must name the same cache file")
        self.assertTrue(names["0"][1].startswith(os.path.join(self.dir, "names.data") + os.sep))
        # and a whole DPO with precomputed reference log-probs on two ranks: rank 1 reads the file rank 0 wrote
        r = self.torchrun("-m", "psrlm_trl.train", self.config("two", precompute_ref=True))
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertEqual(self.status("two")["kind"], "ok")
        with open(os.path.join(self.dir, "two", "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual((m["world_size"], m["training_args"]["gradient_accumulation_steps"]), (2, 2))
        self.assertEqual(m["reference"], "the current iterate, precomputed")

    def test_trainer_arguments_exist_before_the_model_loads(self):
        # what accelerate does under DeepSpeed: creating the arguments registers DeepSpeed's config with
        # transformers (a weak reference held by the arguments' plugin); from_pretrained partitions only then
        import transformers
        from transformers import AutoModelForCausalLM
        from transformers.integrations import deepspeed as ds

        class Zero3:
            def is_zero3(self):
                return True

        post_init, load = transformers.TrainingArguments.__post_init__, AutoModelForCausalLM.from_pretrained.__func__
        seen = []

        def register(self):
            post_init(self)
            self._test_dschf = Zero3()
            ds._hf_deepspeed_config_weak_ref = weakref.ref(self._test_dschf)

        def spy(cls, *a, **kw):
            seen.append(ds.is_deepspeed_zero3_enabled())
            ds._hf_deepspeed_config_weak_ref = None  # load for real, unpartitioned (no DeepSpeed here)
            return load(cls, *a, **kw)

        for task, rows in (("dpo", PAIRS), ("sft", [{"prompt": "Q: 1+1\n", "completion": "2"}] * 4)):
            seen.clear()
            with mock.patch.object(transformers.TrainingArguments, "__post_init__", register), \
                    mock.patch.object(AutoModelForCausalLM, "from_pretrained", classmethod(spy)):
                cfg = load_config(self.config(f"order-{task}", rows, task=task))
                build_trainer(cfg, os.path.join(self.dir, f"order-{task}.tmp"))
            self.assertTrue(seen and seen[0], f"{task}: the model was loaded before the trainer arguments existed")
        ds._hf_deepspeed_config_weak_ref = None

    def test_status_file_keeps_the_kind_of_failure(self):
        bad = self.config("bad", [{"prompt": 7, "chosen": "a", "rejected": "b"}])
        self.assertEqual(main([bad]), 2)
        st = self.status("bad")
        self.assertEqual((st["code"], st["kind"]), (2, "data"))
        self.assertIn("field 'prompt' must be a non-empty string", st["message"])
        contract = os.path.join(self.dir, "contract.json")
        with open(contract, "w") as f:
            json.dump({"kind": "dpo", "records": [{**PAIRS[0], "prompt_ids": [1], "chosen_ids": [2], "rejected_ids": [3]}]}, f)
        self.assertEqual(main([self.config("drift", contract=contract)]), 3)
        st = self.status("drift")
        self.assertEqual((st["code"], st["kind"]), (3, "contract"))
        self.assertIn("token-boundary contract broken", st["message"])
        self.assertFalse(os.path.exists(os.path.join(self.dir, "drift")), "a failed run writes no output")

    def test_a_rank_exits_when_the_pipeline_is_gone(self):
        pipeline = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        tether = {"pid": pipeline.pid, "start": start_time(pipeline.pid), "host": socket.gethostname()}
        # enough epochs that only the tether ends it in time
        cfg = self.config("orphan", epochs=100000, tether=tether)
        rank = subprocess.Popen([sys.executable, "-m", "psrlm_trl.train", cfg], env=env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            pipeline.send_signal(signal.SIGKILL)
            pipeline.wait()
            code = rank.wait(timeout=300)
        finally:
            rank.kill()
            err = rank.stderr.read()
            rank.stderr.close()
        self.assertEqual(code, 4, err[-2000:])
        self.assertIn("is gone; stopping this rank", err)
        self.assertEqual(self.status("orphan")["kind"], "orphaned")

    def test_start_time_sees_zombies_and_reaped_processes_as_gone(self):
        p = subprocess.Popen(["true"])
        for _ in range(200):  # exited but not reaped: a zombie
            if start_time(p.pid) is None:
                break
            time.sleep(0.05)
        self.assertIsNone(start_time(p.pid))
        p.wait()
        self.assertIsNone(start_time(p.pid))
        self.assertTrue(start_time(os.getpid()))

    def test_lora_is_merged_in_a_process_of_its_own(self):
        from safetensors.torch import load_file

        self.assertEqual(main([self.config("lora", lora={"r": 4, "alpha": 8}, warmup_frac=0)]), 0)
        out = os.path.join(self.dir, "lora")
        self.assertFalse(os.path.exists(os.path.join(out, "adapter_config.json")), "a merged model, not an adapter")
        self.assertFalse(os.path.exists(f"{out}.tmp-{os.getppid()}.adapter"))
        merged, base = load_file(os.path.join(out, "model.safetensors")), load_file(os.path.join(self.model, "model.safetensors"))
        self.assertEqual(sorted(merged), sorted(base))
        changed = [k for k in base if not (merged[k] == base[k]).all()]
        self.assertTrue(changed and all(k.endswith("proj.weight") for k in changed), changed)
        self.assertEqual(self.status("lora")["kind"], "ok")


if __name__ == "__main__":
    unittest.main()
