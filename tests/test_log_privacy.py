"""No personal data in logs: database errors quote no values, and the suite's log check works."""

from __future__ import annotations

import logging
import traceback

import pytest
import sqlalchemy as sa

from membership.extensions import db
from membership.models import Member
from tests.factories import make_member
from tests.log_leaks import LeakTrap, hand_out

pytestmark = pytest.mark.usefixtures("app_context")


def test_a_database_error_names_the_statement_but_none_of_its_values(app, database):
    make_member(email="twice.given@example.org", stripe_customer_id="cus_twicegiven")
    db.session.add(Member(email="twice.given@example.org", stripe_customer_id="cus_other"))
    with pytest.raises(sa.exc.IntegrityError) as caught:
        db.session.commit()
    db.session.rollback()
    logged = "".join(traceback.format_exception(caught.value))
    assert "INSERT INTO member" in logged  # still says what failed
    # Neither the parameters (hide_parameters) nor PostgreSQL's DETAIL ("Key (email)=(...)").
    assert "twice.given" not in logged and "cus_other" not in logged
    # The options a config passes in are kept (the test schema's search_path, on PostgreSQL).
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["hide_parameters"] is True
    assert all(options[name] == value for name, value in database.engine_options.items())


def test_the_log_check_finds_a_handed_out_email_in_a_traceback_and_a_name_in_fields():
    trap = LeakTrap()
    logger = logging.getLogger("tests.log_leaks.probe")
    logger.propagate = False  # this probe's records must not reach the run's own check
    logger.addHandler(trap)
    try:
        hand_out("Probe.Reader@Example.org", "Probe Readerson")
        try:
            raise ValueError("no member probe.reader@example.org")
        except ValueError:
            logger.exception("lookup failed")
        logger.warning("seen", extra={"fields": {"who": "Probe Readerson"}})
        logger.info("for %s", "unknown.someone@example.org")  # handed out by no test
    finally:
        logger.removeHandler(trap)
    found = [line.split(" in a log record")[0] for line in trap.leaks()]
    assert found == ["'probe readerson'", "'probe.reader@example.org'"]
