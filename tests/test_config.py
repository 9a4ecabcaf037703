"""Configuration: embedded defaults, production refusals, the simulator switch."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import create_app
from bot.config import ConfigError
from bot.db import dispose, session_factory
from bot.municipality import load_municipality
from bot.setup import prepare_database
from storage.models import Community


def test_defaults_run_embedded_with_the_simulator(tmp_path, monkeypatch):
    monkeypatch.setenv("RUAMKID_INSTANCE", str(tmp_path))
    app = create_app({"INLINE_WORKER": False})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'ruamkid.db'}"
    assert app.config["SIMULATOR"] is True
    assert app.config["LINE_API_HOST"] == "http://127.0.0.1:5000/simulator/line-api"
    assert len(app.config["SECRET_KEY"]) >= 32
    # The generated secrets survive a restart, so sessions and simulator signatures stay valid.
    again = create_app({"INLINE_WORKER": False})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert again.config["LINE_CHANNEL_SECRET"] == app.config["LINE_CHANNEL_SECRET"]


@pytest.mark.parametrize("secret", [None, "dev", "changeme", "short-but-not-weak"])
def test_production_refuses_a_missing_or_weak_secret_key(tmp_path, secret):
    config = {
        "RUAMKID_ENV": "production",
        "INSTANCE_PATH": str(tmp_path),
        "LINE_CHANNEL_SECRET": "s" * 32,
        "LINE_CHANNEL_ACCESS_TOKEN": "t" * 40,
        "SECRET_KEY": secret,
    }
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(config)


def test_production_needs_a_line_channel_and_sets_secure_cookies(tmp_path):
    base = {"RUAMKID_ENV": "production", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 64}
    with pytest.raises(ConfigError, match="LINE_CHANNEL"):
        create_app(base)
    app = create_app(
        {**base, "LINE_CHANNEL_SECRET": "s" * 32, "LINE_CHANNEL_ACCESS_TOKEN": "t" * 40}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SIMULATOR"] is False
    assert "simulator" not in app.blueprints


def test_environment_overrides_defaults_and_the_mapping_overrides_both(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("UNSURE_THRESHOLD", "0.7")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "UNSURE_THRESHOLD": 0.5})
    assert app.config["DATABASE_URL"].endswith("env.db")
    assert app.config["UNSURE_THRESHOLD"] == 0.5


def test_shipped_settings_hold_lamphuns_communities():
    municipality = load_municipality()
    assert municipality.name == "เทศบาลเมืองลำพูน"
    assert municipality.tracking_prefix == "LPN"
    assert len(municipality.communities) == 14
    assert "ชุมชนท่าขาม-บ้านฮ่อม" in municipality.communities


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[municipality]\nname = 'x'\n", "tracking_prefix"),
        ("[municipality]\nname = 'x'\ntracking_prefix = 'lpn'\n", "capital"),
        ("[municipality]\nname='x'\ntracking_prefix='AB'\ncommunities=['ก','ก']\n", "twice"),
        ("name = 'x'\n", "missing"),
    ],
)
def test_bad_settings_files_are_refused_with_a_clear_message(tmp_path, body, message):
    path = tmp_path / "settings.toml"
    path.write_text(body)
    with pytest.raises(ValueError, match=message):
        load_municipality(path)


def test_another_municipality_is_configuration_only(tmp_path, database_url):
    path = tmp_path / "settings.toml"
    path.write_text(
        "[municipality]\nname = 'เทศบาลตำบลตัวอย่าง'\ntracking_prefix = 'TST'\n"
        "communities = ['ชุมชนหนึ่ง', 'ชุมชนสอง']\n",
        encoding="utf-8",
    )
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "RUAMKID_SETTINGS": str(path),
            "DATABASE_URL": database_url,
        }
    )
    prepare_database(app)

    with session_factory(app)() as session:
        names = list(session.scalars(select(Community.name).order_by(Community.position)))
    dispose(app)
    assert names == ["ชุมชนหนึ่ง", "ชุมชนสอง"]
