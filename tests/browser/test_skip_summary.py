"""`make test` ends by saying so when the browser tests were skipped, and how to run them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.browser import conftest as browser_conftest


def summary(skipped: list[str]) -> list[str]:
    written: list[str] = []
    reporter = SimpleNamespace(
        stats={"skipped": [SimpleNamespace(nodeid=nodeid) for nodeid in skipped]},
        section=lambda title, **_markup: written.append(title),
        write_line=written.append,
    )
    hook = browser_conftest.pytest_terminal_summary(reporter)
    next(hook)  # pytest's own summaries come first
    with pytest.raises(StopIteration):
        next(hook)
    return written


def test_skipped_browser_tests_are_named_last_with_how_to_install_chromium(monkeypatch):
    monkeypatch.setattr(browser_conftest, "CHROMIUM", "/nonexistent/chromium")
    written = summary(["tests/browser/test_banner.py::test_a[sqlite]", "tests/mail/x.py::test_b"])
    assert written[0] == "browser tests skipped"
    assert written[1].startswith("1 browser test did not run: /nonexistent/chromium not found")
    assert "apt-get install -y chromium" in written[1]


def test_nothing_is_said_when_they_ran(monkeypatch):
    monkeypatch.setattr(browser_conftest, "CHROMIUM", "/nonexistent/chromium")
    assert summary(["tests/mail/x.py::test_b"]) == []
