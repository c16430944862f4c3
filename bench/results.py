"""One row of the results table, and the table written to bench/RESULTS.md."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass
class Row:
    what: str
    ours: str
    baseline: str
    goal: str
    met: bool | None  # None: not measured in this run (the note says why)
    note: str = ""
    diagnosis: bool = False  # a row explaining another, with no goal of its own

    @property
    def verdict(self) -> str:
        if self.diagnosis:
            return "-"
        return {True: "met", False: "**MISSED**", None: "not measured"}[self.met]


def table(rows: list[Row]) -> str:
    lines = [
        "| what | ours | baseline | goal | result | note |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.what} | {r.ours} | {r.baseline} | {r.goal} | {r.verdict} | {r.note} |" for r in rows
    ]
    return "\n".join(lines)


def write(rows: list[Row], seconds: float) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}"
    text = (
        "# Benchmark results\n\n"
        f"`make bench` on {stamp} ({machine}), {seconds:.0f} s in all. Ratios matter more than "
        "absolute figures: the machine is shared and noisy. Rows that miss a goal say so.\n\n"
        f"{table(rows)}\n"
    )
    RESULTS.write_text(text)
    return text


def _cores() -> int:
    import os

    return os.cpu_count() or 0
