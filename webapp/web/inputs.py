"""Every form and query-string value through the boundary for untrusted text, before any route.

The cleaned (NFC-normalized) values replace the posted ones, so a route reads clean text;
a refused value answers 422 naming the field, and nothing runs. The CSRF token and the
"loaded" hidden field (JSON, bounded where it is parsed) pass through as posted; an
uploaded file's name is checked like an identifier.

Invalid UTF-8 is looked for in the raw query string and form body: werkzeug turns a
percent-escaped invalid byte ("%ff") back into the text "%FF", which cannot be told from
a typed "%FF" once decoded. In a multipart body it becomes U+FFFD, which the boundary
refuses anyway.
"""

import urllib.parse

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from webapp.services.fields import LABELS, SEGMENT_FIELDS
from webapp.services.text import UnsafeText, clean, rule_of, shown
from webapp.web.errors import render_error

PASS_THROUGH = frozenset({"csrf_token", "loaded"})
# Methods whose body is a form the routes read.
FORM_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
URLENCODED = "application/x-www-form-urlencoded"
# What the query-string and form inputs that are not user fields are called on the page.
INPUT_LABELS = {"q": "The search text", "barcode": "The barcode", "source": "The source name",
                "file": "The file name"}


def catalogue_name(name):
    """Return the field catalogue's name for input NAME: 'notes.12.text' is 'notes.text'."""
    kind, _, rest = name.partition(".")
    if rest and kind in SEGMENT_FIELDS:
        return f"{kind}.{rest.rpartition('.')[2]}"
    return name


def label_of(name):
    """Return the label a librarian knows input NAME by, or NAME itself."""
    kind, _, rest = name.partition(".")
    if rest and kind in SEGMENT_FIELDS:
        return SEGMENT_FIELDS[kind].get(rest.rpartition(".")[2], name)
    return LABELS.get(name) or INPUT_LABELS.get(name, f"The field {name}")


def cleaned(values):
    """Return the MultiDict VALUES with every value through the boundary, or raise UnsafeText."""
    pairs = [(name, value if name in PASS_THROUGH else clean(value, name, rule_of(catalogue_name(name))))
             for name, value in values.items(multi=True)]
    return type(values)(pairs)


def check_utf8(raw):
    """Raise UnsafeText naming the first field of the urlencoded RAW bytes that is not UTF-8."""
    for pair in raw.split(b"&"):
        name, value = (urllib.parse.unquote_to_bytes(part.replace(b"+", b" "))
                       for part in pair.partition(b"=")[::2])
        try:
            name.decode()
            value.decode()
        except UnicodeDecodeError:
            raise UnsafeText(shown(name.decode(errors="replace")), "is not valid UTF-8 text") from None


def keep_raw_body():
    """Keep an urlencoded body's bytes before anything parses the form (CSRF does, early)."""
    if request.method in FORM_METHODS and request.mimetype == URLENCODED:
        try:
            request.get_data(cache=True)
        except RequestEntityTooLarge:
            pass  # the form parser answers 413 in its turn


def check_inputs():
    """Replace the query string and form values with clean ones, or answer 422 naming the field."""
    try:
        check_utf8(request.query_string)
        request.args = cleaned(request.args)
        if request.method in FORM_METHODS:
            if request.mimetype == URLENCODED:
                check_utf8(request.get_data(cache=True))
            request.form = cleaned(request.form)
            for name, upload in request.files.items(multi=True):
                if upload.filename:
                    upload.filename = clean(upload.filename, name, rule_of("filename"))
    except UnsafeText as exc:
        # A refused search or filter was not a save: the page says so.
        title = None if request.method in FORM_METHODS else "Not accepted"
        return render_error(422, f"{label_of(exc.field)} {exc.reason}. Correct it and try again.", title)
    return None


def init_app(app):
    """Check every request's text before its route runs, its raw form kept first of all."""
    app.before_request_funcs.setdefault(None, []).insert(0, keep_raw_body)
    app.before_request(check_inputs)
