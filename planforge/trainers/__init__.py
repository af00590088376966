"""Trainers: SFT, DPO and the tool-retrieval (ToolRAG) classifier, and plan evaluation."""
