"""Browser tests: Playwright drives the system Chromium against the app served from a thread."""

import os
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, ROLE_LOGINS

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    """Launch the system Chromium once for the session."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """Serve the app (CSRF on, as in production) from a thread; yield its base URL."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


class PolicyWatch:
    """Collects Content-Security-Policy violations and script errors of one page."""

    def __init__(self, page):
        self.problems = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message):
        if "Content Security Policy" in message.text or message.type == "error" and (
            "Refused to" in message.text
        ):
            self.problems.append(message.text)


def new_page(browser, base_url):
    """Open a page in a fresh context that fails its test on any CSP violation."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10000)
    page = context.new_page()
    page.policy_watch = PolicyWatch(page)
    return page


@pytest.fixture
def page(browser, live_server):
    """A browser page on the live server; the test fails if the page breaks the CSP."""
    page = new_page(browser, live_server)
    yield page
    problems = page.policy_watch.problems
    page.context.close()
    assert problems == [], f"Content-Security-Policy violations or script errors: {problems}"


@pytest.fixture
def second_page(browser, live_server):
    """Another browser context (a second staff member's browser)."""
    page = new_page(browser, live_server)
    yield page
    problems = page.policy_watch.problems
    page.context.close()
    assert problems == [], f"Content-Security-Policy violations or script errors: {problems}"


WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                  "wcag22aa"]}}


def axe_violations(page):
    """Return the WCAG 2.2 AA violations axe-core finds on PAGE, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG_AA)
    return [
        f"{v['id']}: {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def browser_sign_in(page, role):
    """Sign in through the form as the staff member holding ROLE."""
    page.goto("/sign-in")
    page.get_by_label("Primary identifier").fill(ROLE_LOGINS[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
