"""An outbox row as an email: subject, plain text and HTML, in the row's language."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from jinja2 import Environment

from membership.extensions import db
from membership.mail.templates import BUILDERS
from membership.models import Member, OutboxEmail


class UnknownTemplate(LookupError):
    """The row names a template this version of the app cannot render."""


@dataclass(frozen=True)
class Rendered:
    locale: str
    subject: str
    text: str
    html: str


def mail_env() -> Environment:
    """The app's Jinja environment (filters, `_`), trimming tag lines so text emails read well."""
    env = current_app.extensions.get("mail_jinja")
    if env is None:
        env = current_app.jinja_env.overlay(trim_blocks=True, lstrip_blocks=True)
        current_app.extensions["mail_jinja"] = env
    return env


def email_locale(email: OutboxEmail) -> str:
    """The member's language now, else the row's: a new member's language is only known after
    their first receipt is queued (checkout_completed records the payment before welcome())."""
    member = db.session.get(Member, email.member_id) if email.member_id else None
    chosen = member.locale if member is not None and member.locale else email.locale
    languages = current_app.config["LANGUAGES"]
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def render(email: OutboxEmail, preview: bool = False) -> Rendered:
    """Render templates/mail/<template>.txt (with its `subject` block) and .html.

    `preview` is for staff eyes: anything that would work as a credential is left out.
    """
    build = BUILDERS.get(email.template)
    if build is None:
        raise UnknownTemplate(email.template)
    locale = email_locale(email)
    env = mail_env()
    with force_locale(locale):
        values = {
            "locale": locale,
            "publication": current_app.config["PUBLICATION_NAME"],
            "base_url": current_app.config["BASE_URL"],
            **build(email, preview),
        }
        text_template = env.get_template(f"mail/{email.template}.txt")
        subject_block = text_template.blocks["subject"](text_template.new_context(values))
        subject = " ".join("".join(subject_block).split())
        return Rendered(
            locale=locale,
            subject=subject,
            text=text_template.render(values).strip() + "\n",
            html=env.get_template(f"mail/{email.template}.html").render(values, subject=subject),
        )
