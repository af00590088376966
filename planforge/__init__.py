"""planforge: synthetic function-calling datasets (LLMCompiler-style plans) and the small models trained on them."""

__version__ = "0.1.0"
