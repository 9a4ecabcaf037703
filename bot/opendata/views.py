"""The open-data files at ``/opendata/``: an index (licence, time, files) and each file."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory, url_for
from werkzeug.wrappers import Response

from bot.opendata.dump import FILES

bp = Blueprint("opendata", __name__, url_prefix="/opendata")

TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json; charset=utf-8"}


@bp.get("/")
def index() -> Response:
    """List the files of the last dump with its licence and time (404 before the first dump)."""
    folder = Path(current_app.config["OPENDATA_DIR"])
    dictionary = folder / "datadictionary.json"
    if not dictionary.is_file():
        abort(404)
    head = json.loads(dictionary.read_text(encoding="utf-8"))
    body = {
        "licence": head["licence"],
        "generated_at": head["generated_at"],
        "files": [url_for("opendata.file", name=name, _external=True) for name in FILES],
    }
    return Response(
        json.dumps(body, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )


@bp.get("/<name>")
def file(name: str) -> Response:
    """Serve one file of the last dump."""
    if name not in FILES:
        abort(404)
    response = send_from_directory(
        current_app.config["OPENDATA_DIR"], name, max_age=3600, conditional=True
    )
    response.headers["Content-Type"] = TYPES[Path(name).suffix]
    return response
