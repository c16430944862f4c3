"""The dataset every rollup test starts from."""

from __future__ import annotations

import pytest

from membership.models import DonationKind, DonationStatus
from tests.dashboard.rollups.data import A, B, at
from tests.factories import make_campaign, make_donation


@pytest.fixture
def gifts(app) -> dict[str, int]:
    """Five months of gifts whose figures over PERIOD are worked out by hand below; ids by name."""
    alpha, beta = make_campaign(name="Alpha"), make_campaign(name="Beta")
    gamma, delta = make_campaign(name="Gamma"), make_campaign(name="Delta")
    usd, jpy, eur = {"currency": "USD"}, {"currency": "JPY"}, {"currency": "EUR"}
    rec, lost = {"kind": DonationKind.RECURRING}, {"status": DonationStatus.DISPUTE_LOST}
    made = {
        # Outside the period, by a second either side, and an earlier month.
        "before": make_donation(amount=7000, paid_at=at(2026, 1, 14, 23, 59, 59), fee=200,
                                net=6800, campaign=alpha, **usd),
        "after": make_donation(amount=8000, paid_at=at(2026, 4, 15), article_url=A, **usd),
        "december": make_donation(amount=100, paid_at=at(2025, 12, 10), **usd),
        # January, from the 15th: read raw whatever is built.
        "g1": make_donation(amount=2500, paid_at=at(2026, 1, 15), fee=103, net=2397,
                            campaign=alpha, article_url=A, **usd),
        "g2": make_donation(amount=1000, paid_at=at(2026, 1, 31, 23, 59, 59), fee=36, net=964,
                            campaign=beta, **jpy, **rec),
        # February.
        "g3": make_donation(amount=1000, paid_at=at(2026, 2, 1), fee=59, net=941,
                            campaign=alpha, **usd, **rec),
        "g4": make_donation(amount=4000, amount_refunded=1500, paid_at=at(2026, 2, 10),
                            campaign=alpha, article_url=B, **usd),
        "g5": make_donation(amount=1500, status=DonationStatus.DISPUTED, paid_at=at(2026, 2, 14),
                            fee=74, net=1600, settlement_currency="USD", campaign=gamma, **eur),
        "failed": make_donation(amount=9999, status=DonationStatus.FAILED, fee=300, net=9699,
                                paid_at=at(2026, 2, 20), campaign=alpha, article_url=B, **usd),
        "pending": make_donation(amount=7777, status=DonationStatus.PENDING,
                                 paid_at=at(2026, 2, 21), **usd),
        "g8": make_donation(amount=500, paid_at=at(2026, 2, 28, 23, 59, 59), article_url=A, **jpy),
        # March.
        "g9": make_donation(amount=3000, amount_refunded=3000, status=DonationStatus.REFUNDED,
                            paid_at=at(2026, 3, 1), campaign=delta, article_url=B, **usd),
        "g10": make_donation(amount=2000, paid_at=at(2026, 3, 11), campaign=beta, **usd, **lost),
        "g11": make_donation(amount=2000, amount_refunded=500, paid_at=at(2026, 3, 12),
                             **usd, **lost),
        "g12": make_donation(amount=3000, paid_at=at(2026, 3, 5), fee=120, campaign=beta, **jpy),
        "g13": make_donation(amount=1000, paid_at=at(2026, 3, 20), fee=50, net=950,
                             article_url=A, **eur),
        "g14": make_donation(amount=2500, paid_at=at(2026, 3, 31, 23, 59, 59), fee=100,
                             net=2400, **usd),
        "g17": make_donation(amount=2500, paid_at=at(2026, 3, 20), **usd),
        # April, to the 14th: read raw.
        "g15": make_donation(amount=1000, paid_at=at(2026, 4, 1), campaign=beta, article_url=A,
                             **usd),
        "g16": make_donation(amount=2001, paid_at=at(2026, 4, 14, 23, 59, 59), fee=70, net=1930,
                             **jpy, **rec),
        "failed_april": make_donation(amount=500, status=DonationStatus.FAILED,
                                      paid_at=at(2026, 4, 10), **usd),
    }  # fmt: skip
    return {name: gift.id for name, gift in made.items()}
