"""A seeded mutation run over every input planforge reads (see tests/support/fuzzing.py): no crash, no hang."""

import pytest

from tests.support import fuzzing

pytestmark = pytest.mark.slow

INPUTS = 20_000


@pytest.mark.timeout(300)
def test_mutated_inputs_come_back_as_verdicts_or_one_line_errors():
    report = fuzzing.run(INPUTS, seed=20_260_101, slow_seconds=None)  # hangs: the alarm; slowness: the benchmark
    findings = "\n".join(f"{f.kind} x{f.count}: {f.key}\n    {f.example}" for f in report.findings.values())
    assert not report.findings, findings
    assert report.inputs == INPUTS and set(report.by_target) == set(fuzzing.TARGETS)
