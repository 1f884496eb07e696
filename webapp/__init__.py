"""Patron Desk: keep a small library's patron accounts right."""

import os
import secrets
from pathlib import Path

from flask import Flask
from jinja2 import StrictUndefined
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import db as database
from webapp import logs
from webapp.extensions import csrf, htmx, login_manager

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "WEBAPP_"
# Settings that were renamed: an instance config that still names one stops the app at
# start with the new name, instead of its value being ignored without a word.
RENAMED_SETTINGS = {"SIGNIN_MAX_FAILURES_PER_ACCOUNT": "SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS"}


def create_app(test_config=None, instance_path=None):
    """Create and configure the app: config, extensions, blueprints, error handlers, CLI."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(Path(instance_path or os.environ.get("WEBAPP_INSTANCE_PATH")
                                or ROOT / "instance").resolve()),
        instance_relative_config=True,
    )
    load_config(app, test_config)
    if app.config["PROXY_HOPS"]:
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    # First: the request id exists before any other hook can fail or answer.
    logs.init_app(app)
    database.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)

    from webapp import admin, auth, circulation, desk, users, web
    from webapp.serving import SecurityHeaders

    # Outermost: an answer that bypasses Flask's own hooks still carries the headers.
    app.wsgi_app = SecurityHeaders(app.wsgi_app)

    web.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(circulation.bp)
    app.add_url_rule("/", endpoint="index", view_func=auth.routes.home)

    from webapp import cli

    cli.init_app(app)
    return app


def load_config(app, test_config=None):
    """Layer the configuration: defaults, instance/config.py, WEBAPP_ variables, test config."""
    app.config.from_object("webapp.config")
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(ENV_PREFIX.rstrip("_"))
    if "DATABASE_URL" in os.environ and not os.environ.get(ENV_PREFIX + "DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(app.instance_path)
    for old, new in RENAMED_SETTINGS.items():
        if old in app.config:
            raise RuntimeError(f"The setting {old} is now called {new}: rename it in the instance config.")


def instance_secret(instance_path):
    """Return the secret key kept in the instance folder, generating it on first run."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()

__all__ = ["create_app"]
