"""Trainers: SFT, DPO, GRPO and the tool-retrieval (ToolRAG) classifier, and plan evaluation.

One module per trainer with its config beside it, as TRL does, all sharing :mod:`~planforge.trainers.config`:

* :mod:`~planforge.trainers.sft` / :mod:`~planforge.trainers.sft_config` -- TRL ``SFTTrainer``, LoRA by default;
* :mod:`~planforge.trainers.dpo` / :mod:`~planforge.trainers.dpo_config` -- TRL ``DPOTrainer``, optionally from an
  SFT adapter;
* :mod:`~planforge.trainers.grpo` / :mod:`~planforge.trainers.grpo_config` -- TRL ``GRPOTrainer``, the reward
  :mod:`~planforge.trainers.rewards` (pure: the validators, isomorphism and argument agreement), optionally from an
  SFT adapter;
* :mod:`~planforge.trainers.toolrag` / :mod:`~planforge.trainers.toolrag_config` -- the classifier and the
  embedding top-k baseline;
* :mod:`~planforge.trainers.evaluate` / :mod:`~planforge.trainers.evaluate_config` -- plan scoring (pure) and
  ``gen eval plans``;
* :mod:`~planforge.trainers.prompts` -- what the trainers show a planner; :mod:`~planforge.trainers.models` -- LoRA;
* :mod:`~planforge.trainers.cli` -- the ``gen train`` / ``gen eval`` typer sub-apps, built from the configs.

Models load through :mod:`planforge.llms.local`. Importing this package is cheap: torch, transformers, trl and
peft load only inside the functions that use them.
"""
