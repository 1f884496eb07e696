"""Configuration layers and the generated secret key."""

import pytest

from webapp import create_app


def test_precedence_defaults_instance_env_test(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        "IDLE_TIMEOUT_MINUTES = 10\nSEARCH_PAGE_SIZE = 40\nSYNC_MAX_BYTES = 99\n"
    )
    monkeypatch.setenv("WEBAPP_SEARCH_PAGE_SIZE", "50")
    monkeypatch.setenv("WEBAPP_SYNC_MAX_BYTES", "77")
    app = create_app({"SYNC_MAX_BYTES": 55}, instance_path=instance)
    assert app.config["SIGNIN_WINDOW_MINUTES"] == 15  # default
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 10  # instance/config.py
    assert app.config["SEARCH_PAGE_SIZE"] == 50  # environment over instance
    assert app.config["SYNC_MAX_BYTES"] == 55  # test config over everything


def test_secret_key_is_generated_once_into_instance(tmp_path):
    instance = tmp_path / "instance"
    first = create_app(instance_path=instance).config["SECRET_KEY"]
    second = create_app(instance_path=instance).config["SECRET_KEY"]
    assert len(first) >= 64 and first == second
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    other = create_app(instance_path=tmp_path / "elsewhere").config["SECRET_KEY"]
    assert other != first


def test_database_url_selects_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'chosen.sqlite'}")
    app = create_app(instance_path=tmp_path / "instance")
    assert app.config["DATABASE_URL"].endswith("chosen.sqlite")


def test_default_database_lives_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from webapp.db import database_url

    app = create_app(instance_path=tmp_path / "instance")
    assert database_url(app) == f"sqlite:///{tmp_path / 'instance' / 'library.sqlite'}"


def test_a_renamed_setting_stops_the_app_with_its_new_name(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("SIGNIN_MAX_FAILURES_PER_ACCOUNT = 3\n")
    with pytest.raises(RuntimeError, match="now called SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS"):
        create_app(instance_path=instance)
