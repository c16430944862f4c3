"""The give page as a reader meets it: frequency buttons, amount tiles and a button that says
the gift, right for the chosen frequency also where no script runs."""

from __future__ import annotations

import html as html_module
import re

import pytest
from werkzeug.datastructures import MultiDict

from membership.models import Frequency
from tests.donations.conftest import attempts, checked, sessions
from tests.factories import make_campaign

pytestmark = pytest.mark.usefixtures("app_context")


def tiles(page: str, frequency: str) -> list[tuple[str, str, bool]]:
    """(value, label, ticked) of one frequency's amount tiles."""
    block = re.search(rf'data-tiles="{frequency}">(.*?)</div>', page, re.S)
    assert block, f"no tiles for {frequency}"
    found = re.findall(r"<input ([^>]*)><label[^>]*>(.*?)</label>", block.group(1))
    values = [re.findall(r'value="([^"]*)"', attrs)[0] for attrs, _ in found]
    return [
        (value, html_module.unescape(label), "checked" in attrs)
        for value, (attrs, label) in zip(values, found, strict=True)
    ]


def button_words(page: str) -> str:
    """What the button says without JavaScript: the site's CSS shows the chosen frequency's
    words for the ticked tile, by its place (or the words without a figure)."""
    [frequency] = checked(page, "frequency")
    block = re.search(rf'<span class="ask" data-frequency="{frequency}">(.*?)</span></span>', page)
    assert block
    words = re.findall(r'<span class="ask-(?:amount|any)">(.*?)(?:</span>|$)', block.group(1))
    ticked = [i for i, (_, _, on) in enumerate(tiles(page, frequency)) if on]
    return html_module.unescape(words[ticked[0]] if ticked else words[-1])


def test_the_campaigns_default_frequency_is_the_ticked_button(client):
    make_campaign(slug="annual", default_frequency=Frequency.YEAR)
    page = client.get("/give?campaign=annual").get_data(as_text=True)
    assert checked(page, "frequency") == ["year"]
    assert page.count('class="segment-input"') == 3
    ticked = r'<input checked class="segment-input" id="frequency-\d" name="frequency"'
    assert re.search(ticked, page)
    assert button_words(page) == "Give $100 a year"


def test_tiles_show_whole_amounts_as_people_write_them(client):
    page = client.get("/give").get_data(as_text=True)
    assert tiles(page, "month") == [
        ("month:5", "$5", False),
        ("month:10", "$10", True),
        ("month:20", "$20", False),
    ]
    assert [label for _, label, _ in tiles(page, "one_off")] == ["$10", "$25", "$50", "$100"]
    assert "$10.00" not in page
    russian = client.get("/give?lang=ru").get_data(as_text=True)
    assert [label for _, label, _ in tiles(russian, "month")] == ["5\xa0$", "10\xa0$", "20\xa0$"]
    assert "Поддержать: 10\xa0$ в месяц" in russian


def test_only_the_chosen_frequencys_group_has_a_ticked_tile(client):
    page = client.get("/give?frequency=one_off&amount=10").get_data(as_text=True)
    assert checked(page, "amount") == ["one_off:10"]
    assert [on for _, _, on in tiles(page, "one_off")] == [True, False, False, False]
    assert not any(on for _, _, on in tiles(page, "month"))


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("", "Give $10 a month"),
        ("?frequency=year", "Give $100 a year"),
        ("?frequency=one_off", "Give $25"),
        ("?frequency=one_off&amount=50&currency=EUR", "Give €50"),
        ("?frequency=month&amount=17.50", "Give monthly"),  # a typed amount: no figure yet
    ],
)
def test_the_button_says_the_gift_for_the_chosen_amount_and_frequency(client, query, words):
    page = client.get(f"/give{query}").get_data(as_text=True)
    assert button_words(page) == words
    assert "Continue to payment" not in page


def form_fields(page: str) -> list[tuple[str, str, str, str, bool]]:
    """(type, id, name, value, checked) of every input, as the page drew them."""
    found = []
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]*)"', tag)
        if name is None:
            continue
        kind = re.search(r'type="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        ident = re.search(r'id="([^"]*)"', tag)
        found.append(
            (
                kind.group(1) if kind else "text",
                ident.group(1) if ident else "",
                name.group(1),
                html_module.unescape(value.group(1)) if value else "",
                bool(re.search(r"\bchecked\b", tag)),
            )
        )
    return found


def test_without_javascript_a_one_off_tile_posts_one_amount_and_checks_out(client, sandbox):
    page = client.get("/give").get_data(as_text=True)
    # What the reader clicks: "One-off", then its third tile.
    ticks = {"frequency": "frequency-0", "amount": "amount-one_off-3"}
    data: list[tuple[str, str]] = []
    for kind, ident, name, value, on in form_fields(page):
        if kind in ("radio", "checkbox"):
            if (ticks[name] == ident) if name in ticks else on:
                data.append((name, value))
        else:
            data.append((name, value))
    data.append(("currency", "USD"))
    assert [v for n, v in data if n == "amount"] == ["one_off:50"]  # the radios share a name
    response = client.post("/give", data=MultiDict(data))
    assert response.status_code == 303
    [attempt] = attempts()
    assert (attempt.amount, attempt.currency, attempt.frequency) == (5000, "USD", Frequency.ONE_OFF)
    [session] = sessions(sandbox)
    assert session["amount_total"] == 5000 and session["mode"] == "payment"


def test_without_javascript_a_tile_ticked_before_switching_frequency_is_not_taken(client, sandbox):
    """One-off $50 ticked, then Monthly chosen: the one-off tile stays ticked out of sight and
    is sent; it is not this gift's amount, so the reader is asked to choose one."""
    form = {"frequency": "month", "amount": "one_off:50", "currency": "USD", "submission": "f" * 32}
    response = client.post("/give", data=form)
    assert response.status_code == 422  # as any invalid gift
    page = response.get_data(as_text=True)
    assert "Choose an amount or enter your own." in page
    assert checked(page, "frequency") == ["month"] and checked(page, "amount") == []
    assert attempts() == [] and sessions(sandbox) == []
    chosen = {**form, "amount": "month:20", "submission": "g" * 32}
    assert client.post("/give", data=chosen).status_code == 303
    [attempt] = attempts()
    assert (attempt.amount, attempt.frequency) == (2000, Frequency.MONTH)
