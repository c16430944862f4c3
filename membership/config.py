"""Configuration classes, read from the environment (and an optional `.env`)."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal, InvalidOperation

# Secrets that appear in tutorials, our own docs and `.env.example`: never valid in production.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "dev",
        "secret",
        "changeme",
        "change-me",
        "you-will-never-guess",
        "development-only-not-a-secret-key-0000",
        "replace-me-with-64-random-hex-characters-from-secrets-token-hex",
    }
)
MIN_SECRET_KEY_BYTES = 32


def limiter_storage_options(uri: str) -> dict[str, object]:
    """Give up on a Redis that does not answer within half a second (it answers a LAN request
    in a millisecond): by default redis-py waits out the system's connect timeout, minutes for
    a host that drops packets, and retries ten times, holding the request all along."""
    if uri.partition("://")[0] not in {"redis", "rediss", "redis+unix"}:
        return {}  # memory:// takes no options; other stores have options of their own
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "retry": Retry(NoBackoff(), 1)}


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}.") from exc


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_tiers(name: str, default: str) -> list[tuple[str, int]]:
    """Tiers from "supporter:1,sustainer:6000" as [(name, minimum minor units)], lowest first."""
    tiers = []
    for part in env_list(name, default):
        label, _, minimum = part.partition(":")
        if not label.strip() or not minimum.strip().isdigit():
            raise ConfigError(f"{name} entries look like name:minimum_minor_units, got {part!r}.")
        tiers.append((label.strip(), int(minimum)))
    return sorted(tiers, key=lambda tier: tier[1])


def env_rates(name: str) -> dict[str, float]:
    """ "JPY=1.5,KRW=14" -> {"JPY": 1.5, "KRW": 14.0}: positive numbers per currency."""
    rates = {}
    for currency, value in env_map(name).items():
        try:
            rate = float(value)
        except ValueError:
            rate = 0.0
        if not rate > 0:
            raise ConfigError(
                f"{name} entries look like KRW=14 (a positive number), got {value!r}."
            )
        rates[currency] = rate
    return rates


def env_basis_points(name: str, default: str) -> int:
    """ "2.9" (percent, at most two decimals, under 20) -> 290 basis points."""
    value = os.environ.get(name, default).strip().rstrip("%") or "0"
    try:
        points = Decimal(value).scaleb(2)
    except InvalidOperation:
        points = Decimal("NaN")
    if not (points.is_finite() and points == points.to_integral_value() and 0 <= points < 2000):
        raise ConfigError(
            f"{name} is a percentage like 2.9: under 20, two decimals at most; got {value!r}."
        )
    return int(points)


def env_minor_units(name: str, default: str) -> dict[str, int]:
    """ "USD=0.30,JPY=40" (major units) -> {"USD": 30, "JPY": 40}: whole minor units."""
    from membership.money import Money, MoneyError

    found = {}
    for currency, value in env_map(name, default).items():
        try:
            found[currency] = Money.from_major(value, currency).amount
        except MoneyError as exc:
            raise ConfigError(
                f"{name} entries look like USD=0.30, got {currency}={value}."
            ) from exc
        if found[currency] < 0:
            raise ConfigError(f"{name} amounts cannot be negative, got {currency}={value}.")
    return found


def env_map(name: str, default: str = "") -> dict[str, str]:
    """ "USD=3,JPY=500" -> {"USD": "3", "JPY": "500"}."""
    pairs = (part.partition("=") for part in env_list(name, default))
    return {key.strip().upper(): value.strip() for key, _, value in pairs if value.strip()}


class Config:
    """Settings for every environment; each can be set by an env var of the same name."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False

    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    # Keys the fingerprints erased donors leave (members/erasure.py). Unset: derived from
    # SECRET_KEY, so rotating that one would forget who was erased; set it on its own.
    ERASURE_KEY = os.environ.get("ERASURE_KEY") or None
    # None means "SQLite under the instance folder", resolved by create_app.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A pooled connection idle this many seconds is pinged before use (0: always); see pool.py.
    DATABASE_PING_AFTER_IDLE = env_int("DATABASE_PING_AFTER_IDLE", 1)
    # PostgreSQL connections kept open per process: one for each of its threads.
    DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 12)

    PUBLICATION_NAME = os.environ.get("PUBLICATION_NAME", "The Independent Ledger")
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # Who a receipt is from (receipts.py): the legal name (PUBLICATION_NAME when unset), its
    # address (lines separated by ";"), tax id, and the tax sentence in each language (the
    # English one stands in for an unset translation). Unset ones are left off the receipt.
    ORG_NAME = os.environ.get("ORG_NAME") or None
    ORG_ADDRESS = os.environ.get("ORG_ADDRESS") or None
    ORG_TAX_ID = os.environ.get("ORG_TAX_ID") or None
    RECEIPT_TAX_NOTE = os.environ.get("RECEIPT_TAX_NOTE") or None
    RECEIPT_TAX_NOTE_RU = os.environ.get("RECEIPT_TAX_NOTE_RU") or None

    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
    # Only for pointing the real Stripe library at a stand-in server (the sandbox, stripe-mock).
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
    # Where Stripe's hosted Checkout and Billing portal pages live; the give form and the card
    # update redirect there, and each page's policy lets its forms go nowhere else. Add your
    # own domain if Stripe serves Checkout on one (a custom domain).
    STRIPE_HOSTED_ORIGINS = env_list(
        "STRIPE_HOSTED_ORIGINS", "https://checkout.stripe.com,https://billing.stripe.com"
    )
    # Demo mode only: POST the sandbox's webhooks here instead of handing them over in-process.
    SANDBOX_WEBHOOK_URL = os.environ.get("SANDBOX_WEBHOOK_URL") or None
    # Demo mode only: the SQLite file holding the sandbox's Stripe objects, clock and webhook
    # queue, so a restart keeps them and every worker shares them; "memory" keeps them in the
    # process. Unset: instance/stripe-sandbox.db.
    SANDBOX_STATE = os.environ.get("SANDBOX_STATE") or None
    # Demo mode only: the stand-in answers 429 past Stripe's per-second limit ("test": 25,
    # "live": 100, or a number), so the service's backoff can be watched; off when unset.
    SANDBOX_RATE_LIMIT = os.environ.get("SANDBOX_RATE_LIMIT") or None
    # What counts as a gift (webhooks/gifts.py): "shared" (the default) counts what our own
    # checkout started plus GIFT_PRODUCT_IDS; "dedicated" counts everything the account takes.
    STRIPE_ACCOUNT = os.environ.get("STRIPE_ACCOUNT", "shared").strip().lower() or "shared"
    GIFT_PRODUCT_IDS = frozenset(
        p.strip() for p in os.environ.get("GIFT_PRODUCT_IDS", "").split(",") if p.strip()
    )
    STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down must not stop giving: each process then counts the same limits in its own
    # memory, and goes back to Redis once it answers (Flask-Limiter logs the switch once per
    # process; /healthz says "degraded"). An error in between, such as Redis failing after a
    # checkout went to Stripe, is logged rather than answered 500. RATELIMIT_* options:
    # https://flask-limiter.readthedocs.io/en/stable/configuration.html
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = limiter_storage_options(RATELIMIT_STORAGE_URI)

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = env_int("MAIL_PORT", 587)
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "members@localhost")

    LANGUAGES = ["en", "ru"]
    BABEL_DEFAULT_LOCALE = "en"
    CURRENCIES = [c.upper() for c in env_list("CURRENCIES", "USD,EUR,GBP")]
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "USD").upper()
    # How long a worker reuses read-mostly data (running campaigns, the banner script).
    CACHE_SECONDS = env_int("CACHE_SECONDS", 30)
    # Hosts whose articles may be recorded as a gift's source (empty: any http(s) URL).
    ARTICLE_HOSTS = [h.lower() for h in env_list("ARTICLE_HOSTS", "")]
    # Gift bounds in major units per currency; unset ones default to 3 and 10,000 (x100 for
    # zero-decimal currencies). A minimum makes the form useless for testing stolen cards.
    AMOUNT_MIN = env_map("AMOUNT_MIN")
    AMOUNT_MAX = env_map("AMOUNT_MAX")
    # The form's offer to cover the card fees: what is added so that, once the processor takes
    # COVER_FEES_PERCENT of the total plus COVER_FEES_FIXED (major units, per currency), the
    # newsroom keeps the whole gift. Stripe's standard US card price by default; set yours.
    # COVER_FEES=off hides the offer.
    COVER_FEES = env_bool("COVER_FEES", True)
    COVER_FEES_PERCENT = env_basis_points("COVER_FEES_PERCENT", "2.9")
    COVER_FEES_FIXED = env_minor_units("COVER_FEES_FIXED", "USD=0.30,EUR=0.25,GBP=0.20")
    # Flask-Limiter strings. Per client address, and for all clients together.
    CHECKOUT_RATE_LIMIT = os.environ.get("CHECKOUT_RATE_LIMIT", "5 per 10 minutes")
    CHECKOUT_GLOBAL_RATE_LIMIT = os.environ.get("CHECKOUT_GLOBAL_RATE_LIMIT", "120 per minute")
    # Optional CAPTCHA on the donation form: "turnstile", "hcaptcha" or empty (off).
    CAPTCHA_PROVIDER = os.environ.get("CAPTCHA_PROVIDER", "").strip().lower() or None
    CAPTCHA_SITE_KEY = os.environ.get("CAPTCHA_SITE_KEY") or None
    CAPTCHA_SECRET_KEY = os.environ.get("CAPTCHA_SECRET_KEY") or None
    CAPTCHA_VERIFY_URL = os.environ.get("CAPTCHA_VERIFY_URL") or None  # provider's by default

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=env_int("SESSION_HOURS", 8))
    WTF_CSRF_TIME_LIMIT = 3600
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Membership rules (members/services.py). A one-off gift keeps a member active this long.
    ONE_OFF_ACTIVE_MONTHS = env_int("ONE_OFF_ACTIVE_MONTHS", 12)
    # "name:minimum" pairs: annualised giving in minor units (no FX conversion between currencies).
    MEMBER_TIERS = env_tiers("MEMBER_TIERS", "supporter:1,sustainer:6000,patron:25000")
    # Minor units of a currency worth one minor unit of the tiers' amounts (DEFAULT_CURRENCY's),
    # e.g. "KRW=14,JPY=1.5"; an unlisted currency counts one for one, as cents and yen about do.
    MEMBER_TIER_RATES = env_rates("MEMBER_TIER_RATES")
    # Webhooks: signatures older than this are refused (Stripe's own default is 300 s).
    STRIPE_WEBHOOK_TOLERANCE = env_int("STRIPE_WEBHOOK_TOLERANCE", 300)
    # `flask stripe reconcile` looks back at most this far: Stripe keeps events for 30 days.
    STRIPE_RECONCILE_MAX_DAYS = 30
    # Proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    PROXY_COUNT = env_int("PROXY_COUNT", 0)

    # Staff sign-in (dashboard/auth.py, dashboard/staff/). A session ends after this long
    # without a request, and this long after sign-in whatever the activity; both are checked
    # server-side on every /staff request. Login attempts are throttled per client address and
    # per submitted email (Flask-Limiter strings; counters in RATELIMIT_STORAGE_URI).
    STAFF_IDLE_MINUTES = env_int("STAFF_IDLE_MINUTES", 30)
    STAFF_SESSION_HOURS = env_int("STAFF_SESSION_HOURS", 12)
    LOGIN_RATE_LIMIT_IP = os.environ.get("LOGIN_RATE_LIMIT_IP", "20 per 15 minutes")
    LOGIN_RATE_LIMIT_ACCOUNT = os.environ.get("LOGIN_RATE_LIMIT_ACCOUNT", "5 per 15 minutes")

    # Email (membership/mail/). Without MAIL_SERVER, `flask outbox send` logs each email (no
    # address, no body) and keeps it viewable at /staff/emails instead of delivering it.
    MAIL_TIMEOUT = env_int("MAIL_TIMEOUT", 30)  # seconds per SMTP operation
    MAIL_RENEWAL_RECEIPTS = env_bool("MAIL_RENEWAL_RECEIPTS", True)  # a receipt per renewal
    OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 100)  # emails per pass of the sender
    OUTBOX_POLL_SECONDS = env_int("OUTBOX_POLL_SECONDS", 10)  # `--forever`: wait when idle

    # Donor self-service (account/). A sign-in link works once, for this many minutes; a donor
    # session ends after DONOR_IDLE_MINUTES without a request or DONOR_SESSION_HOURS after
    # sign-in. Link requests are throttled per client address and per submitted email.
    DONOR_LINK_MINUTES = env_int("DONOR_LINK_MINUTES", 30)
    DONOR_IDLE_MINUTES = env_int("DONOR_IDLE_MINUTES", 30)
    # A sign-in link in a failed-payment email, for updating the card, lasts this long.
    CARD_LINK_HOURS = env_int("CARD_LINK_HOURS", 72)
    DONOR_SESSION_HOURS = env_int("DONOR_SESSION_HOURS", 4)
    ACCOUNT_LINK_RATE_LIMIT = os.environ.get("ACCOUNT_LINK_RATE_LIMIT", "10 per 15 minutes")
    ACCOUNT_LINK_RATE_LIMIT_EMAIL = os.environ.get(
        "ACCOUNT_LINK_RATE_LIMIT_EMAIL", "3 per 15 minutes"
    )
    # Sign-in and manage POSTs per client address (link guessing is hopeless; this caps noise).
    ACCOUNT_ACTION_RATE_LIMIT = os.environ.get("ACCOUNT_ACTION_RATE_LIMIT", "30 per 10 minutes")

    @classmethod
    def validate(cls, settings: dict) -> None:
        """Raise ConfigError when the settings are unsafe for this environment."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = env_bool("FLASK_DEBUG", False)
    SECRET_KEY = Config.SECRET_KEY or "development-only-not-a-secret-key-0000"


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-only-secret-key-that-is-long-enough-000"  # noqa: S105 (test-only)
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    STRIPE_SECRET_KEY = None
    STRIPE_WEBHOOK_SECRET = None
    STRIPE_API_BASE = None
    PUBLICATION_NAME = "The Test Gazette"
    BASE_URL = "http://localhost"
    ORG_NAME = None
    ORG_ADDRESS = None
    ORG_TAX_ID = None
    RECEIPT_TAX_NOTE = None
    RECEIPT_TAX_NOTE_RU = None
    RATELIMIT_STORAGE_URI = "memory://"
    WTF_CSRF_ENABLED = False
    MAIL_SERVER = None
    CURRENCIES = ["USD", "EUR", "GBP", "JPY"]
    DEFAULT_CURRENCY = "USD"
    ARTICLE_HOSTS: list[str] = []
    CACHE_SECONDS = 0  # tests see every change at once; test_cache.py turns it on
    AMOUNT_MIN: dict[str, str] = {}
    AMOUNT_MAX: dict[str, str] = {}
    COVER_FEES = True
    COVER_FEES_PERCENT = 290
    COVER_FEES_FIXED = {"USD": 30, "EUR": 25, "GBP": 20}
    CHECKOUT_RATE_LIMIT = "5 per 10 minutes"
    CHECKOUT_GLOBAL_RATE_LIMIT = "120 per minute"
    CAPTCHA_PROVIDER = None
    SANDBOX_STATE = "memory"  # a fresh, fast stand-in for each app a test builds


class ProductionConfig(Config):
    ENV_NAME = "production"
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def validate(cls, settings: dict) -> None:
        problems = []
        secret = settings.get("SECRET_KEY") or ""
        if not secret:
            problems.append("SECRET_KEY is not set.")
        elif secret in KNOWN_DEFAULT_SECRETS:
            problems.append("SECRET_KEY is a well-known default; generate one.")
        elif len(secret.encode()) < MIN_SECRET_KEY_BYTES:
            problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes.")
        if settings.get("DEBUG") or env_bool("FLASK_DEBUG"):
            problems.append("DEBUG must be off in production (unset FLASK_DEBUG).")
        for key in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
            if not settings.get(key):
                problems.append(f"{key} is not set.")
        if problems:
            hint = 'Generate a key with: python -c "import secrets; print(secrets.token_hex(32))"'
            raise ConfigError(
                "Refusing to start in production:\n  - " + "\n  - ".join(problems) + f"\n{hint}"
            )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """The config class named by APP_ENV (development when unset)."""
    name = os.environ.get("APP_ENV", "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise ConfigError(f"APP_ENV must be one of {', '.join(CONFIGS)}; got {name!r}.") from exc
