"""Every page opens with a skip link to its one <main>, and has one h1: a screen reader's
map of the page, and a keyboard's way past the header and the staff menu."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from membership.extensions import db
from membership.models import DonationKind, OutboxEmail, StaffRole
from tests.dashboard.conftest import login, make_account
from tests.factories import make_campaign, make_donation, make_member

READER_PAGES = ["/", "/give", "/account/", "/sandbox/mailbox", "/no-such-page", "/staff/login"]
SKIP = {"en": "Skip to content", "ru": "Перейти к содержанию"}


class Outline(HTMLParser):
    """The first focusable element, and each <main> and <h1>."""

    FOCUSABLE = {"a", "button", "input", "select", "textarea", "iframe"}

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[str, str | None] | None = None
        self.first_text = ""
        self.in_first = False
        self.mains: list[dict[str, str | None]] = []
        self.h1s = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "main":
            self.mains.append(found)
        self.h1s += tag == "h1"
        focusable = tag in self.FOCUSABLE and not (tag == "a" and "href" not in found)
        if self.first is None and focusable and found.get("type") != "hidden":
            self.first, self.in_first = found | {"tag": tag}, True

    def handle_endtag(self, tag: str) -> None:
        if self.in_first and tag == self.first["tag"]:
            self.in_first = False

    def handle_data(self, data: str) -> None:
        if self.in_first:
            self.first_text += data


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


def assert_skip_link_to_one_main(html: str, lang: str = "en") -> None:
    page = outline(html)
    assert page.first is not None
    assert (page.first["tag"], page.first.get("class"), page.first.get("href")) == (
        "a",
        "skip-link",
        "#main",
    )
    assert page.first_text.strip() == SKIP[lang]
    assert [main.get("id") for main in page.mains] == ["main"]
    assert page.h1s == 1


@pytest.mark.parametrize("lang", sorted(SKIP))
@pytest.mark.parametrize("path", READER_PAGES)
def test_reader_pages_open_with_a_skip_link_to_their_main(client, path, lang):
    response = client.get(f"{path}?lang={lang}")
    assert_skip_link_to_one_main(response.get_data(as_text=True), lang)


def test_staff_pages_open_with_a_skip_link_past_the_menu(app, client):
    with app.app_context():
        admin = make_account(StaffRole.ADMIN, email="editor@newsroom.example")
        reader = make_member(email="zoya.reader@example.org")
        make_donation(reader, amount=4200, currency="EUR", kind=DonationKind.ONE_OFF)
        campaign = make_campaign(slug="year-end")
        email = OutboxEmail(
            member_id=reader.id,
            to_address=reader.email,
            template="receipt",
            dedupe_key="outline",
            context={"donation_id": 1, "amount": 4200, "currency": "EUR"},
        )
        db.session.add(email)
        db.session.commit()
        pages = [
            "/staff/",
            "/staff/members",
            f"/staff/members/{reader.public_id}",
            "/staff/campaigns",
            "/staff/campaigns/new",
            f"/staff/campaigns/{campaign.id}/edit",
            "/staff/webhooks",
            "/staff/emails",
            f"/staff/emails/{email.id}",
            "/staff/audit",
            "/staff/staff",
            "/staff/password",
        ]
        login(client, admin.email)
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert_skip_link_to_one_main(html)
        # The staff menu is skipped: it comes before <main>, not inside it.
        assert html.index('class="dashboard-nav"') < html.index('<main id="main"')


@pytest.mark.parametrize(
    "path", ["/embed/banner?lang=en", "/embed/banner?lang=ru", "/demo/article"]
)
def test_the_banner_frame_and_the_demo_article_have_a_main_and_an_h1(client, path):
    page = outline(client.get(path).get_data(as_text=True))
    assert (len(page.mains), page.h1s) == (1, 1)
