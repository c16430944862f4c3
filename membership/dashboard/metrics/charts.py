"""Bar charts as inline SVG, drawn on the server: no script, no CDN, readable without colour."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 24, 36
PALETTE = ("#1f6feb", "#d1495b", "#2e7d32", "#8e44ad", "#e0a800")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]  # one per category; minor units or counts, never floats


def grouped_bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    label: Callable[[int], str] = str,
    partial: str | None = None,
) -> Markup:
    """Bars per category, one per series side by side, each with a hover title and label;
    the `partial` category (the month under way) is labelled "so far"."""
    peak = max((v for s in series for v in s.values), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    bar_w = max(slot * 0.8 / max(len(series), 1), 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#999"/>',
    ]
    for i, category in enumerate(categories):
        x0 = LEFT + i * slot + slot * 0.1
        for j, one in enumerate(series):
            value = one.values[i] if i < len(one.values) else 0
            height = plot_h * value / peak
            so_far = " (so far)" if category == partial else ""
            text = f"{category}{so_far} {one.name}: {label(value)}"
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{TOP + plot_h - height:.1f}" '
                f'width="{bar_w:.1f}" height="{height:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(text)}</title></rect>"
            )
        if len(categories) <= 24:  # past two years of months the labels would collide
            parts.append(
                f'<text x="{LEFT + (i + 0.5) * slot:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'font-size="11" text-anchor="middle">{escape(short_month(category))}</text>'
            )
            if category == partial:
                parts.append(
                    f'<text x="{LEFT + (i + 0.5) * slot:.1f}" y="{HEIGHT - BOTTOM + 30}" '
                    'font-size="11" text-anchor="middle">so far</text>'
                )
    parts.append(legend(series))
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="14" font-size="11" text-anchor="end">'
        f"max {escape(label(peak if peak != 1 or any_value(series) else 0))}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text went through escape)


def legend(series: Sequence[Series]) -> str:
    items = []
    for j, one in enumerate(series):
        x = LEFT + j * 140
        items.append(
            f'<rect x="{x}" y="4" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="13" font-size="11">{escape(one.name)}</text>'
        )
    return "".join(items)


def any_value(series: Sequence[Series]) -> bool:
    return any(v for s in series for v in s.values)


def short_month(category: str) -> str:
    """ "2026-03" -> "Mar 26"; anything else unchanged."""
    names = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()  # noqa: SIM905
    year, _, month = category.partition("-")
    if len(year) == 4 and month.isdigit() and 1 <= int(month) <= 12:
        return f"{names[int(month) - 1]} {year[2:]}"
    return category
