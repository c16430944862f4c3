"""The suite's own check for personal data in logs fails the run, also under pytest-xdist."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
LEAKING_TEST = """
import logging
from tests.log_leaks import hand_out

def test_logs_a_donor():
    hand_out("leaky.donor@example.org")
    logging.getLogger("membership.probe").warning("gift from leaky.donor@example.org")

def test_logs_nothing():
    pass
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "two workers"])
def test_a_leak_fails_the_run_whatever_the_number_of_workers(pytester, monkeypatch, workers):
    """The run fails with the leak named, also when the tests are spread over workers, whose
    own exit status never reaches the controller."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_leak=LEAKING_TEST)
    result = pytester.runpytest_subprocess(
        "-p", "tests.log_leaks", "-p", "no:cacheprovider", *workers
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*personal data in the logs*", "'leaky.donor@example.org'*"])
    assert result.parseoutcomes()["passed"] == 2
