"""Validate HTML with the Nu HTML Checker (vnu-jar from npm, run on Debian's Java)."""

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.servers import run

ROOT = Path(__file__).resolve().parents[2]
VNU_DIR = ROOT / ".venv" / "vnu"  # npm --prefix: installed once per virtual environment
JAR = VNU_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# htmx's hx-* attributes (hx-get, hx-on:click, hx-on::after-request ...) are not in the HTML spec.
HTMX_ATTRIBUTE = re.compile(r"^Attribute “hx-[\w:.-]+” not allowed on element “[^”]+” at this point\.$")
DOCUMENT_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype|html)\b", re.I | re.S)
# A partial whose first element needs a parent is wrapped in that parent.
PARENTS = {"tr": "<table><tbody>", "td": "<table><tbody><tr>", "th": "<table><tbody><tr>",
           "tbody": "<table>", "thead": "<table>", "li": "<ul>", "option": "<select>",
           "dt": "<dl>", "dd": "<dl>"}
FIRST_TAG = re.compile(r"^\s*(?:<!--.*?-->\s*)*<([a-zA-Z][\w-]*)", re.S)


def vnu_jar():
    """Return the path of vnu.jar, installing vnu-jar with npm into .venv/vnu when missing."""
    if not JAR.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("vnu-jar needs npm: apt-get install -y npm")
        run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(VNU_DIR), "vnu-jar"])
    return JAR


def as_document(html):
    """Return html itself if it is a whole document, else the fragment inside a minimal valid page."""
    if DOCUMENT_START.match(html):
        return html
    first = FIRST_TAG.match(html)
    parent = PARENTS.get(first.group(1).lower(), "") if first else ""
    # One line of wrapping before the fragment, so vnu's line numbers are the fragment's own.
    head = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Fragment</title></head>'
    close = "".join(f"</{tag}>" for tag in reversed(re.findall(r"<(\w+)>", parent)))
    return f"{head}<body>{parent}{html}\n{close}</body></html>"


def allowed(message):
    """Tell whether a vnu message is one we accept: htmx's hx-* attributes."""
    return bool(HTMX_ATTRIBUTE.match(message.get("message", "")))


def _check(files):
    """Run vnu once on all files and return its JSON messages."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("vnu needs Java: apt-get install -y default-jre-headless")
    # Quick JIT and a small collector: the run is short, so start-up time dominates.
    command = [java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss4m", "-jar", str(vnu_jar()),
               "--format", "json", "--exit-zero-always", *map(str, files)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stderr or result.stdout)["messages"]


def validate(html_by_name):
    """Validate many documents or fragments in one java run; return the errors not allowed."""
    if not html_by_name:
        return []
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        names, files = {}, []
        for number, (name, html) in enumerate(html_by_name.items()):
            files.append(Path(folder) / f"{number:05d}.html")
            files[-1].write_text(as_document(html), encoding="utf-8")
            names[files[-1].name] = name
        messages = _check(files)
    return [_error(names, message) for message in messages
            if message["type"] in ("error", "non-document-error") and not allowed(message)]


def _error(names, message):
    """Return one vnu message as a dict naming the document it came from."""
    url = message.get("url", "")
    return {"name": names.get(url.rsplit("/", 1)[-1], url), "line": message.get("lastLine"),
            "column": message.get("firstColumn"), "message": message["message"],
            "extract": message.get("extract", "")}


def format_errors(errors):
    """Return errors as readable lines, one per error."""
    return "\n".join(f"{e['name']}:{e['line']}:{e['column']}: {e['message']}  [{e['extract']!r}]"
                     for e in errors)


class Pages:
    """Collects HTML under names during a test and validates them all in one java run."""

    def __init__(self):
        self.html_by_name = {}

    def add(self, name, html):
        """Keep html (a page, a fragment, or a response's bytes) to validate later under name."""
        self.html_by_name[name] = html.decode() if isinstance(html, bytes) else html

    def assert_valid(self):
        """Validate everything added so far, failing with every error found."""
        pending, self.html_by_name = self.html_by_name, {}
        errors = validate(pending)
        assert not errors, "HTML errors:\n" + format_errors(errors)
