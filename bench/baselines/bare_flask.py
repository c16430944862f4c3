"""The floor for page serving: Flask returning a fixed page of the prompt page's size."""

from flask import Flask

app = Flask(__name__)
PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Support us</title>"
    "<link rel=stylesheet href=/static/css/site.css></head><body><main>"
    "<h1>Support The Bench Gazette!</h1><p>Now is the time to support independent reporting.</p>"
    "<p><a href=/give>Contribute today</a></p></main></body></html>"
) + " " * 600


@app.get("/")
def page() -> str:
    return PAGE


@app.get("/healthz")
def healthz() -> str:
    return "ok"
