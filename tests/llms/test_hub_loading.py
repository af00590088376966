"""Hub ids fail fast without the Hub: with HF_HUB_OFFLINE set, or when the Hub cannot be reached, the error is one
line at once (the loader's own retries take about a minute); an id in the local Hugging Face cache loads from it.
The Hub itself is unreachable here, so the cache is built in the test in the Hub's own layout."""

from __future__ import annotations

import shutil

import pytest

from planforge.errors import ModelUnavailableError
from planforge.llms.local import hub_load_options


def test_offline_and_not_cached_is_one_line(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailableError) as caught:
        hub_load_options("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert "not in the local Hugging Face cache, and HF_HUB_OFFLINE is set" in str(caught.value)


def test_an_unreachable_hub_is_one_line_before_any_retry(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ModelUnavailableError) as caught:
        hub_load_options("HuggingFaceTB/SmolLM2-135M-Instruct")
    message = str(caught.value)
    assert "cannot reach http://127.0.0.1:9 to download it" in message and "HF_HUB_OFFLINE=1" in message


def test_local_paths_need_no_hub(tmp_path):
    assert hub_load_options(str(tmp_path)) == {}
    assert hub_load_options("./some/model.gguf") == {}


def _cache_as_hub(model_dir, cache, repo_id: str) -> None:
    """``models--org--name/snapshots/<revision>/...`` and ``refs/main``: how huggingface_hub caches a download."""
    root = cache / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(model_dir, root / "snapshots" / "0123abcd")
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text("0123abcd")


@pytest.mark.torch
def test_a_cached_hub_id_loads_without_the_hub(monkeypatch, tmp_path, tiny_model_dir):
    from huggingface_hub import constants

    from planforge.llms.local import load_causal_lm

    _cache_as_hub(tiny_model_dir, tmp_path, "planforge-tests/tiny-llama")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    assert hub_load_options("planforge-tests/tiny-llama") == {"local_files_only": True}
    model, tokenizer = load_causal_lm("planforge-tests/tiny-llama", device="cpu")
    assert model.config.num_hidden_layers == 2 and tokenizer.chat_template
