"""``gen eval bfcl``'s settings (beside :mod:`planforge.trainers.eval_bfcl`)."""

from __future__ import annotations

from dataclasses import dataclass

from planforge.trainers.config import option


@dataclass(kw_only=True)
class EvalBFCLConfig:
    """Who answers: a local model (+ adapter), an OpenAI-compatible endpoint's model, or a predictions file."""

    model: str | None = option(None, "Hub id, local directory or .gguf file (local), or the endpoint's model name.")
    adapter: str | None = option(None, "A LoRA adapter for --model (the base model is read from its run).")
    base_url: str | None = option(None, "An OpenAI-compatible endpoint: --model is asked there (or $OPENAI_BASE_URL).")
    api_key_env: str = option("OPENAI_API_KEY", "Environment variable holding the endpoint's key.")
    predictions: str | None = option(None, "JSONL of {id, plan} made elsewhere (LLMCompiler text or JSON calls).")
    categories: str | None = option(None, "Comma-separated BFCL categories (default: every AST category).")
    limit: int | None = option(None, "Score only the first N items of each category.")
    data_dir: str | None = option(None, "A folder in bfcl_eval/data's layout (default: the installed bfcl-eval's).")
    batch_size: int = option(8, "Local model: prompts per generation batch.")
    max_new_tokens: int = option(320, "Generation limit per answer.")
    concurrency: int = option(8, "Endpoint: requests in flight.")
    seed: int = option(42, "Random seed.")
    out: str | None = option(
        None, "Write metrics.json, predictions.jsonl (with each verdict) and run_config.json here."
    )
    dtype: str = option("float32", "Weights' dtype: float32, bfloat16 or float16.", cli=False)
