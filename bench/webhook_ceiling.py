"""The ceiling for bench/webhook.py: the least a LINE webhook can do (verify, parse, 200)."""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhook import WebhookParser


def create_app() -> Flask:
    """Build a Flask app whose /callback only checks the signature with line-bot-sdk."""
    app = Flask(__name__)
    parser = WebhookParser(os.environ["LINE_CHANNEL_SECRET"])

    @app.post("/callback")
    def callback() -> Response:
        signature = request.headers.get("X-Line-Signature", "")
        try:
            parser.parse(request.get_data(as_text=True), signature)
        except InvalidSignatureError:
            abort(400)
        return Response("OK", mimetype="text/plain")

    return app
