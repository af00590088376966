"""Curation: preference pairs (student plans, typed corruptions) and human review in Argilla."""
