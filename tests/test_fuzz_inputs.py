"""A seeded mutation run over every input planforge reads (see tests/support/fuzzing.py): no crash, no hang."""

import time

import pytest

from tests.support import fuzzing

pytestmark = pytest.mark.slow

INPUTS = 20_000


@pytest.mark.timeout(300)
def test_mutated_inputs_come_back_as_verdicts_or_one_line_errors():
    start = time.process_time()
    report = fuzzing.run(INPUTS, seed=20_260_101)
    spent = time.process_time() - start
    findings = "\n".join(f"{f.kind} x{f.count}: {f.key}\n    {f.example}" for f in report.findings.values())
    assert not report.findings, findings
    assert report.inputs == INPUTS and set(report.by_target) == set(fuzzing.TARGETS)
    assert spent < 60, f"{INPUTS} inputs took {spent:.1f} s of CPU"
