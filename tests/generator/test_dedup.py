"""Exact and near-duplicate requests."""

from planforge.generator.dedup import Deduplicator, jaccard


def test_dedup_exact_and_near():
    original = "Please email Sid about the Q3 budget and the hiring pipeline before Friday"
    typo = "Please email Sid about the Q3 budget and the hiring pipline before Friday"
    assert jaccard(original, typo) > 0.85
    dedup = Deduplicator(threshold=0.85)
    dedup.add_text(original)
    assert dedup.check("please EMAIL Sid about the Q3 budget, and the hiring pipeline before Friday!").kind == "exact"
    assert dedup.check(typo).kind == "near"
    assert dedup.check("Email Sid about the Q3 budget").kind is None  # similar, not near: 0.85 is strict
    assert dedup.check("Text Lutfi that dinner is at 7").kind is None
