"""The TRL bridge: SFT and step-wise DPO of a Hugging Face checkpoint on the pipeline's exported JSONL.

    python -m psrlm_trl.train CONFIG.json                      # one process
    accelerate launch [--config_file X.yaml] -m psrlm_trl.train CONFIG.json   # multi-GPU / DeepSpeed / multi-node

The TypeScript pipeline (src/train/trl.ts) writes CONFIG.json and runs this as a subprocess; the launcher
prefix (accelerate launch and its config) is the user's and passes through untouched, so ZeRO-2/3, FSDP and
multi-node come from accelerate, not from here.

- SFT (paper §4.1: M1 = SFT of M0 on IFT + EFT): TRL's SFTTrainer on token ids we build (data.py), loss on
  completion tokens only, EOS where a record says so.
- Step-wise DPO (paper §3.4): TRL's DPOTrainer, sigmoid loss, reference = the current iterate (the model
  being trained, as loaded): a frozen copy, or its log-probs computed once up front (`precompute_ref`), or
  given in the data (`ref_chosen`/`ref_rejected`). Our tokenisation replaces TRL's dataset preparation,
  which would append EOS to every step (data.py says why that is wrong).
- Full parameters or LoRA (peft); a LoRA run saves the merged model (`lora.merge`, default) or the adapter.
  A `model` that is itself an adapter (M_t of a run whose iterates are adapters) continues that adapter on
  its base, with a frozen copy of it as the DPO reference.
- IFT replay (`replay`, off unless given; not the paper's method): every DPO loss also takes the SFT loss of
  a few records drawn from an IFT pool (psrlm_trl.replay).

Output: a Hugging Face checkpoint (safetensors, tokenizer, manifest.json with versions, settings, data
digest and the trainer's log), written to OUTPUT.tmp-PID and renamed into place, so OUTPUT is whole or absent.
Progress: one JSON line per logged step on stdout ({"event": "step", ...}), then {"event": "done", ...}.
Outcome: `status.json` ({code, kind, message}, psrlm_trl.status) beside the output or where the config's
`status` says, and the exit status: 0 ok, 2 bad config or data, 3 token-boundary contract broken, 4 the
pipeline is gone (`tether`, psrlm_trl.tether), 1 anything else. A launcher flattens exit statuses; the file
keeps the kind.

On several ranks (accelerate + DeepSpeed ZeRO-3): the training set is saved once and loaded from disk by every
rank (psrlm_trl.dataset: TRL's reference log-prob cache is named after it); the trainer arguments exist before
the model is loaded (ZeRO-3 partitions the weights while loading only when DeepSpeed's config is registered,
which creating the arguments does); a LoRA model is merged after training in a process of its own
(psrlm_trl.merge).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import traceback
from typing import Any

from .data import ContractError, DataError, Encoder, check_contract, encode_pairs, encode_sft, read_jsonl
from .dataset import shared_dataset
from .merge import merge_in_subprocess
from .replay import Replay, check_config as check_replay
from .status import status_path, write_status
from .tether import watch

KEYS = {
    "task": None, "model": None, "output": None, "data": None, "contract": "", "adapter": "",
    "beta": 0.1, "nll_alpha": 0.0, "lr": None, "epochs": None, "batch_size": None, "per_device_batch_size": 8,
    "warmup_frac": 0.1, "min_lr_frac": 0.1, "weight_decay": 0.0, "grad_clip": 1.0, "seed": None,
    "lora": None, "precompute_ref": False, "max_length": None, "dtype": "float32", "gradient_checkpointing": False,
    "adam_beta1": 0.9, "adam_beta2": 0.95, "adam_epsilon": 1e-8, "manifest": {},
    # the outcome file (psrlm_trl.status; "" = OUTPUT.status.json) and the pipeline to die with
    # ({pid, start, host}, psrlm_trl.tether; {} = none)
    "status": "", "tether": {},
    # IFT replay during DPO: {} = off, or {data: JSONL of SFT records, weight, per_pair} (psrlm_trl.replay)
    "replay": {},
}


def load_config(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"cannot read the training config {path}: {e}") from e
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise DataError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    missing = [k for k, v in KEYS.items() if v is None and k not in raw and k not in ("lora", "max_length")]
    if missing:
        raise DataError(f"{path}: missing key(s) {', '.join(missing)} (no hidden defaults for these)")
    cfg = {**KEYS, **raw}
    if cfg["task"] not in ("sft", "dpo"):
        raise DataError(f"{path}: task must be 'sft' or 'dpo', got {cfg['task']!r}")
    if not isinstance(cfg["nll_alpha"], (int, float)) or cfg["nll_alpha"] < 0:
        raise DataError(f"{path}: nll_alpha must be a number, 0 or more, got {cfg['nll_alpha']!r}")
    if cfg["dtype"] not in ("float32", "bfloat16", "float16"):
        raise DataError(f"{path}: dtype must be float32, bfloat16 or float16")
    check_replay(cfg["replay"], path, cfg["task"])
    t = cfg["tether"]
    if not isinstance(t, dict) or (t and not isinstance(t.get("pid"), int)):
        raise DataError(f"{path}: tether must be {{}} or {{pid, start, host}} with an integer pid, got {t!r}")
    return _adapter_checkpoint(cfg, path)


def _adapter_checkpoint(cfg: dict[str, Any], path: str) -> dict[str, Any]:
    """A `model` that is a LoRA adapter (M_t saved with `lora.merge: false`, as the `lora` engine serves it) is
    continued on its base: model = the adapter's base, adapter = M_t. Loading it as a plain model would put a
    second, fresh adapter on top, train that, and save an adapter that is wrong without the first."""
    if cfg["adapter"] or not os.path.exists(os.path.join(cfg["model"], "adapter_config.json")):
        return cfg
    try:
        with open(os.path.join(cfg["model"], "adapter_config.json"), encoding="utf-8") as f:
            base = json.load(f).get("base_model_name_or_path") or ""
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: cannot read {cfg['model']}/adapter_config.json: {e}") from e
    if not os.path.isdir(base):
        raise DataError(
            f"{path}: {cfg['model']} is a LoRA adapter whose base model '{base}' (base_model_name_or_path in its "
            "adapter_config.json) is not a directory here; put the base checkpoint there or fix that path")
    return {**cfg, "model": base, "adapter": cfg["model"]}


def _is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def emit(event: dict[str, Any]) -> None:
    if _is_main():
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for p in ("torch", "transformers", "trl", "accelerate", "peft", "safetensors", "deepspeed"):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            pass
    return out


def _training_args(cfg: dict[str, Any], out_tmp: str, n_examples: int):
    """The trainer arguments, every optimisation setting stated (TRL/transformers defaults differ by version)."""
    # the launcher's world (torchrun, accelerate launch and deepspeed all set WORLD_SIZE): accelerate's
    # PartialState() made before the arguments reports 1 process on CPUs whatever was launched
    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_dev = max(1, min(cfg["per_device_batch_size"], cfg["batch_size"]))
    if cfg["batch_size"] % (per_dev * world):
        raise DataError(
            f"batch_size {cfg['batch_size']} is not a multiple of per_device_batch_size {per_dev} x {world} processes; "
            "change one of them so that gradient accumulation is a whole number")
    common = dict(
        output_dir=out_tmp, per_device_train_batch_size=per_dev,
        gradient_accumulation_steps=cfg["batch_size"] // (per_dev * world),
        learning_rate=cfg["lr"], num_train_epochs=cfg["epochs"], lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr_rate": cfg["min_lr_frac"]}, warmup_steps=min(float(cfg["warmup_frac"]), 0.999),  # a float below 1 is a ratio of all steps
        weight_decay=cfg["weight_decay"], max_grad_norm=cfg["grad_clip"], optim="adamw_torch",
        adam_beta1=cfg["adam_beta1"], adam_beta2=cfg["adam_beta2"], adam_epsilon=cfg["adam_epsilon"],
        seed=cfg["seed"], data_seed=cfg["seed"], logging_steps=1, save_strategy="no", report_to=[],
        bf16=cfg["dtype"] == "bfloat16", fp16=cfg["dtype"] == "float16",
        gradient_checkpointing=cfg["gradient_checkpointing"], remove_unused_columns=True,
        disable_tqdm=True, dataloader_num_workers=0, use_cpu=not _has_accelerator(),
        max_length=cfg["max_length"],
    )
    if cfg["task"] == "sft":
        from trl import SFTConfig

        return SFTConfig(**common, completion_only_loss=True, packing=False, dataset_kwargs={})
    from trl import DPOConfig

    # nll_alpha > 0: the chosen side's per-token NLL joins the sigmoid loss (iterative RPO), TRL's "sft" term,
    # the same objective as the embedded engine's trainDPO with nll_alpha
    alpha = float(cfg["nll_alpha"])
    losses = dict(loss_type=["sigmoid", "sft"], loss_weights=[1.0, alpha]) if alpha > 0 else dict(loss_type=["sigmoid"])
    return DPOConfig(**common, beta=cfg["beta"], **losses, precompute_ref_log_probs=bool(cfg["precompute_ref"]))


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available()


def _load_model(cfg: dict[str, Any]):
    import torch
    from transformers import AutoModelForCausalLM

    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[cfg["dtype"]]
    model = AutoModelForCausalLM.from_pretrained(cfg["model"], dtype=dtype)
    peft_config = None
    if cfg["adapter"]:
        from peft import PeftModel

        # M_t = base + the previous iterations' adapter: keep training that adapter; TRL keeps a frozen copy
        # of it as the reference ("ref" adapter), so the reference is still the current iterate
        model = PeftModel.from_pretrained(model, cfg["adapter"], is_trainable=True)
    elif cfg["lora"]:
        from peft import LoraConfig

        lo = cfg["lora"]
        unknown = sorted(set(lo) - {"r", "alpha", "dropout", "target_modules", "merge"})
        if unknown:
            raise DataError(f"lora: unknown key(s) {', '.join(unknown)}")
        peft_config = LoraConfig(
            r=lo.get("r", 16), lora_alpha=lo.get("alpha", 32), lora_dropout=lo.get("dropout", 0.0),
            target_modules=lo.get("target_modules", "all-linear"), task_type="CAUSAL_LM",
        )
    return model, peft_config


def _tokenizer(cfg: dict[str, Any]):
    from transformers import AutoTokenizer

    # an adapter checkpoint carries its tokenizer (the pipeline's side of the contract reads that one)
    src = cfg["adapter"] if cfg["adapter"] and os.path.exists(os.path.join(cfg["adapter"], "tokenizer_config.json")) else cfg["model"]
    tok = AutoTokenizer.from_pretrained(src)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def build_trainer(cfg: dict[str, Any], out_tmp: str, callbacks: list | None = None):
    """The TRL trainer for `cfg`, data tokenised and contract checked (tests inspect its batches).

    Order matters on several ranks: the trainer arguments (they set up the process group), the data (saved
    once, loaded by every rank from `out_tmp`.data), then the model. Creating the arguments under `accelerate launch` with DeepSpeed
    registers DeepSpeed's config with transformers (`is_deepspeed_zero3_enabled()`), and only then does
    `from_pretrained` load ZeRO-3 partitions instead of the whole model on every rank. The arguments object
    must stay alive while the model loads (transformers holds that config by a weak reference)."""
    tok = _tokenizer(cfg)
    enc = Encoder(tok)
    if cfg["contract"]:
        n = check_contract(enc, cfg["contract"])
        emit({"event": "contract", "records": n, "ok": True})
    rows = read_jsonl(cfg["data"])
    if cfg["task"] == "sft":
        from trl import SFTTrainer

        data = encode_sft(enc, rows, cfg["data"])
        args = _training_args(cfg, out_tmp, len(data))
        dataset = shared_dataset(data, f"{out_tmp}.data", args)
        model, peft_config = _load_model(cfg)
        trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tok,
                             peft_config=peft_config, callbacks=callbacks)
        return trainer, data
    data = encode_pairs(enc, rows, cfg["data"])
    if cfg["max_length"] is not None:
        # TRL's own preparation drops these; here, before the set is saved, so no rank writes a filtered copy
        data = [d for d in data if len(d["prompt_ids"]) < cfg["max_length"]]
        if not data:
            raise DataError(f"{cfg['data']}: every prompt has max_length ({cfg['max_length']}) tokens or more; "
                            "raise trainer.max_length or shorten the prompts")
    given_ref = "ref_chosen_logps" in data[0]
    if given_ref:
        cfg = {**cfg, "precompute_ref": True}
    args = _training_args(cfg, out_tmp, len(data))
    dataset = shared_dataset(data, f"{out_tmp}.data", args)
    replay = Replay(enc, cfg["replay"], cfg["seed"]) if cfg["replay"] else None
    model, peft_config = _load_model(cfg)
    trainer_cls = _step_dpo_trainer(given_ref, replay)
    trainer = trainer_cls(model=model, args=args, train_dataset=dataset, processing_class=tok,
                          peft_config=peft_config, callbacks=callbacks)
    return trainer, data


def _step_dpo_trainer(given_ref: bool, replay: Replay | None = None):
    from trl import DPOTrainer

    class StepDPOTrainer(DPOTrainer):
        """DPOTrainer on token ids made by data.py: TRL's own preparation (which appends EOS to every
        completion of plain-text data) is replaced; its collator, loss and reference handling are kept. With
        `replay`, each training loss adds weight x the per-token NLL of a replay draw (psrlm_trl.replay)."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            out = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            if replay is None or not self.model.training:
                return out
            loss = out[0] if return_outputs else out
            nll = replay.nll(model, inputs["input_ids"].shape[0] // 2, loss.device)
            self._metrics["train"]["replay_nll"].append(self.accelerator.gather_for_metrics(nll.detach()).mean().item())
            loss = loss + replay.weight * nll
            return (loss, out[1]) if return_outputs else loss

        def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
            need = {"prompt_ids", "chosen_ids", "rejected_ids"}
            if not need <= set(dataset.column_names):
                raise DataError(f"{dataset_name}: expected token ids {sorted(need)} from psrlm_trl.data")
            return dataset  # prompts of max_length tokens or more were dropped by build_trainer

        def _precompute_ref_logps(self, dataset, name, batch_size):
            if given_ref:  # the pipeline sent the reference log-probs with the pairs
                return dataset
            return super()._precompute_ref_logps(dataset, name, batch_size)

    return StepDPOTrainer


def _log_callback(history: list[dict[str, Any]]):
    from transformers import TrainerCallback

    class Log(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            if not logs or "loss" not in logs:
                return
            row = {
                "step": state.global_step, "steps": state.max_steps, "loss": logs["loss"],
                "lr": logs.get("learning_rate", 0.0), "grad_norm": logs.get("grad_norm", 0.0),
            }
            if "rewards/accuracies" in logs:
                row["accuracy"] = logs["rewards/accuracies"]
            if "rewards/margins" in logs:
                row["margin"] = logs["rewards/margins"]
            if "replay_nll" in logs:
                row["replay_nll"] = logs["replay_nll"]
            history.append(row)
            emit({"event": "step", **row})

    return Log()


def train(cfg: dict[str, Any]) -> dict[str, Any]:
    import torch

    out = os.path.abspath(cfg["output"])
    tmp = f"{out}.tmp-{os.environ.get('PSRLM_RUN_ID', os.getppid())}"
    if _is_main():
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(f"{tmp}.adapter", ignore_errors=True)
    t0 = time.time()
    history: list[dict[str, Any]] = []
    trainer, data = build_trainer(cfg, tmp, callbacks=[_log_callback(history)])
    result = trainer.train()
    lo = cfg["lora"] or {}
    merged = bool(cfg["adapter"] or cfg["lora"]) and lo.get("merge", True)
    # all ranks save: under ZeRO-3 the trainer gathers the partitioned weights (or the adapter's) here
    saved = f"{tmp}.adapter" if merged else tmp
    trainer.save_model(saved)
    if trainer.accelerator.is_main_process:
        # DPO on a continued adapter keeps TRL's frozen "ref" copy beside it, and PEFT saves every adapter
        # (that one in ref/): the iterate is the trained "default" adapter alone
        shutil.rmtree(os.path.join(saved, "ref"), ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    if not _is_main():
        # the rest is the main process's: the others leave now instead of waiting (a merge takes minutes,
        # longer than a collective should hang)
        return {}
    shutil.rmtree(f"{tmp}.data", ignore_errors=True)
    if merged:
        # a plain checkpoint: servers load it like any model (no adapter bookkeeping per iteration), merged
        # in a process of its own from the saved adapter (psrlm_trl.merge says why not here under ZeRO-3)
        merge_in_subprocess(cfg["model"], saved, tmp, cfg["dtype"])
        shutil.rmtree(saved)
    seq_tokens = sum(len(d.get("input_ids", [])) or len(d["prompt_ids"]) * 2 + len(d["chosen_ids"]) + len(d["rejected_ids"]) for d in data)
    summary = {
        "steps": int(trainer.state.global_step), "tokens": int(seq_tokens * cfg["epochs"]),
        "final_loss": float(history[-1]["loss"]) if history else float(result.training_loss),
        "wall_s": round(time.time() - t0, 3), "history": history,
    }
    trainer.processing_class.save_pretrained(tmp)
    for junk in ("training_args.bin",):
        if os.path.exists(os.path.join(tmp, junk)):
            os.remove(os.path.join(tmp, junk))
    manifest = {
        # parent: the checkpoint trained from (M_t: the adapter when one was continued); base_model: what
        # an adapter applies to (null for a full or merged checkpoint)
        "kind": "psrlm-trl", "task": cfg["task"], "parent": os.path.abspath(cfg["adapter"] or cfg["model"]),
        "adapter_parent": os.path.abspath(cfg["adapter"]) if cfg["adapter"] else None,
        "base_model": os.path.abspath(cfg["model"]) if (cfg["adapter"] or cfg["lora"]) and not merged else None,
        "reference": ("given with the pairs" if "ref_chosen_logps" in data[0] else
                      "the current iterate, precomputed" if cfg["precompute_ref"] else "the current iterate, frozen copy")
        if cfg["task"] == "dpo" else None,
        "eos_rule": "EOS only after a final step (chosen_final / rejected_final)" if cfg["task"] == "dpo" else "EOS where a record's eos is true",
        "config": {k: v for k, v in cfg.items() if k not in ("manifest", "tether", "status")},
        "data_sha256": _sha256(cfg["data"]), "examples": len(data),
        **({"replay_sha256": _sha256(cfg["replay"]["data"])} if cfg["replay"] else {}),
        "training_args": trainer.args.to_dict(), "versions": _versions(),
        "world_size": trainer.accelerator.num_processes, "torch_threads": torch.get_num_threads(),
        "result": {k: v for k, v in summary.items() if k != "history"}, "history": history,
        **({"pipeline": cfg["manifest"]} if cfg["manifest"] else {}),
    }
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, default=str)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.replace(tmp, out)
    return summary


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.stderr.write("usage: python -m psrlm_trl.train CONFIG.json\n")
        return 2
    status = ""
    try:
        cfg = load_config(argv[0])
        status = status_path(cfg)
        watch(cfg["tether"], status)
        summary = train(cfg)
    except (DataError, ContractError) as e:
        sys.stderr.write(f"psrlm_trl: {e}\n")
        kind = "data" if isinstance(e, DataError) else "contract"
        return write_status(status, kind, str(e)) if status else 2
    except Exception as e:  # noqa: BLE001 - any failure still leaves its kind and message in the status file
        traceback.print_exc()
        return write_status(status, "error", f"{type(e).__name__}: {e}") if status else 1
    if _is_main():
        emit({"event": "done", **summary})
        write_status(status, "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
