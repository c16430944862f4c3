"""The floor for webhook ingestion: verify the signature, insert the raw event, answer 200."""

from __future__ import annotations

import json
import os
import threading

import psycopg
import stripe
from flask import Flask, request
from psycopg.types.json import Jsonb

app = Flask(__name__)
SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]
local = threading.local()


def connection() -> psycopg.Connection:
    """One autocommit connection per worker thread, opened on first use."""
    if not hasattr(local, "conn"):
        local.conn = psycopg.connect(os.environ["BENCH_MIN_DATABASE_URL"], autocommit=True)
    return local.conn


@app.post("/stripe/webhook")
def receive() -> tuple[str, int]:
    body = request.get_data()
    try:
        stripe.WebhookSignature.verify_header(
            body.decode(), request.headers.get("Stripe-Signature", ""), SECRET, 300
        )
    except stripe.SignatureVerificationError:
        return "bad signature", 400
    event = json.loads(body)
    connection().execute(
        "INSERT INTO bench_min_event (id, type, payload) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (event["id"], event["type"], Jsonb(event)),
    )
    return "ok", 200


@app.get("/healthz")
def healthz() -> str:
    return "ok"
