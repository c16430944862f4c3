"""Page serving: prompt page and banner script against bare Flask; the banner's weight."""

from __future__ import annotations

from urllib.parse import urlsplit

from bench.db import production_env
from bench.loadgen import Load, wrk
from bench.results import Row
from bench.servers import described, gunicorn

WORKERS = 2


def pages(database_url: str) -> list[Row]:
    """Peak requests/s (closed loop) and p99 at 80% of that peak (paced)."""
    rows = []
    with (
        gunicorn("app:app", production_env(database_url), WORKERS) as ours,
        gunicorn("bench.baselines.bare_flask:app", {}, WORKERS) as bare,
    ):
        wrk(bare + "/", seconds=2)  # warm both up: imports, connection pools, caches
        for path, label in (("/", "prompt page"), ("/embed.js", "banner script")):
            wrk(ours + path, seconds=2)
            baseline, peak = in_turns(bare + "/", ours + path)
            paced = wrk(ours + path, seconds=8, rate=0.8 * peak.rps)
            ratio = peak.rps / baseline.rps
            rows.append(
                Row(
                    what=f"{label} `{path}`, {described(WORKERS)}",
                    ours=f"{peak.rps:.0f} req/s; p99 {paced.p99_ms:.1f} ms at {paced.rps:.0f} req/s (80% of peak offered)",
                    baseline=f"bare Flask {baseline.rps:.0f} req/s",
                    goal="ratio >= 0.6; p99 < 50 ms at 80% of peak",
                    met=ratio >= 0.6 and paced.p99_ms < 50 and peak.errors == paced.errors == 0,
                    note=f"ratio {ratio:.2f}; errors {peak.errors + paced.errors}",
                )
            )
    return rows


def in_turns(bare: str, ours: str, turns: int = 2, seconds: int = 4) -> tuple[Load, Load]:
    """Peak load of bare Flask and of ours, taking turns: the machine's speed drifts over
    seconds, and measuring one after the other would give one of them the slower spell."""
    runs: dict[str, list[Load]] = {bare: [], ours: []}
    for _ in range(turns):
        for url in (bare, ours):
            runs[url].append(wrk(url, seconds=seconds))
    return combined(runs[bare]), combined(runs[ours])


def combined(loads: list[Load]) -> Load:
    """One Load for several equal-length runs: their mean rate, worst p99, summed counts."""
    return Load(
        rps=sum(load.rps for load in loads) / len(loads),
        p50_ms=max(load.p50_ms for load in loads),
        p99_ms=max(load.p99_ms for load in loads),
        errors=sum(load.errors for load in loads),
        requests=sum(load.requests for load in loads),
    )


def banner_weight(database_url: str) -> list[Row]:
    """Everything the browser fetches for the banner on the demo article, in real Chromium."""
    from playwright.sync_api import sync_playwright

    with gunicorn("app:app", production_env(database_url), 1) as ours:
        ours_host = urlsplit(ours).netloc
        fetched: list[tuple[str, int]] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            page = browser.new_page()
            page.on("requestfinished", lambda r: fetched.append((r.url, _size(r))))
            page.goto(ours + "/demo/article", wait_until="networkidle")
            cookies = page.context.cookies()
            browser.close()
    banner = [(url, size) for url, size in fetched if not url.startswith(ours + "/demo/article")]
    third_party = [url for url, _ in banner if urlsplit(url).netloc != ours_host]
    total = sum(size for _, size in banner)
    return [
        Row(
            what="banner weight on `/demo/article` (Chromium)",
            ours=f"{total:,} bytes in {len(banner)} request(s); {len(third_party)} third-party; {len(cookies)} cookies",
            baseline="-",
            goal="< 15 KB, 0 third-party requests",
            met=total < 15_000 and not third_party,
            note="headers and bodies as sent",
        )
    ]


def _size(request) -> int:  # type: ignore[no-untyped-def]
    sizes = request.sizes()
    return int(sizes["responseBodySize"] + sizes["responseHeadersSize"])
