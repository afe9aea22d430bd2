"""psrlm_ref: the PyTorch reference for psrlm's embedded engine (docs/engine.md).

model.py  the model, losses, tokenizer and checkpoint format
oracle.py the command-line oracle the TypeScript tests call (formats in reference/README.md)
bench.py  PyTorch's speed on this machine, the anchor for the engine's benchmark
"""
