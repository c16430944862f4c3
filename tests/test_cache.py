"""The per-process memo: read-mostly data is reused for CACHE_SECONDS, and off when 0."""

from __future__ import annotations

from membership.extensions import db
from membership.models import Campaign
from tests.factories import make_campaign


def headline_after_edit(make_app, seconds: int) -> tuple[bool, bool]:
    app = make_app(CACHE_SECONDS=seconds)
    client = app.test_client()
    with app.app_context():
        campaign_id = make_campaign(slug="spring", headline="First words").id
    first = "First words" in client.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.get(Campaign, campaign_id).headline = "Second words"
        db.session.commit()
    second = "Second words" in client.get("/").get_data(as_text=True)
    script = client.get("/embed.js").get_data(as_text=True)
    return first and second, "Second words" in script


def test_with_caching_on_a_worker_reuses_what_it_read(make_app):
    shown_new_at_once, script_new = headline_after_edit(make_app, 3600)
    assert not shown_new_at_once and not script_new


def test_with_caching_off_every_request_reads_afresh(make_app):
    assert headline_after_edit(make_app, 0) == (True, True)


def test_a_cached_campaign_is_still_readable_in_a_later_request(make_app):
    app = make_app(CACHE_SECONDS=3600)
    with app.app_context():
        make_campaign(slug="spring", headline="Spring appeal", button_text="Give")
    client = app.test_client()
    for _ in range(3):  # later requests read the detached, cached object
        html = client.get("/give?campaign=spring").get_data(as_text=True)
        assert "Spring appeal" in html
