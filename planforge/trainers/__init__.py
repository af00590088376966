"""Trainers: SFT, DPO and the tool-retrieval (ToolRAG) classifier, and plan evaluation.

One module per trainer, each with its config dataclass beside the function that runs it:

* :mod:`planforge.trainers.sft` -- :class:`SFTRunConfig`, :func:`run_sft` (TRL ``SFTTrainer``, LoRA by default);
* :mod:`planforge.trainers.dpo` -- :class:`DPORunConfig`, :func:`run_dpo` (TRL ``DPOTrainer``, optionally from an
  SFT adapter);
* :mod:`planforge.trainers.toolrag` -- :class:`ToolRAGConfig`, :func:`train_toolrag`, :class:`ToolRAGClassifier`
  and the embedding top-k baseline;
* :mod:`planforge.trainers.evaluate` -- plan scoring as pure functions, greedy generation, :func:`eval_plans`;
* :mod:`planforge.trainers.models` -- load a tokenizer and causal LM from a hub id, a local directory or a GGUF file;
* :mod:`planforge.trainers.data` -- dataset loading and checks, the prompts both training and evaluation use;
* :mod:`planforge.trainers.cli` -- the ``gen train`` / ``gen eval`` typer sub-apps.

Importing this package is cheap: torch, transformers, trl and peft load only inside the functions that use them.
"""

from __future__ import annotations


class TrainerConfigError(ValueError):
    """A configuration problem found before any training starts (a missing column, a model that cannot load,
    a dataset of the wrong kind). The message is one line, meant to be printed without a traceback."""


__all__ = ["TrainerConfigError"]
