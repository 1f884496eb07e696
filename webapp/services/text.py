"""The one boundary for untrusted text: forms, query strings, sync files, file names.

clean() returns a value NFC-normalized, or raises UnsafeText naming the field and what is
wrong with it. It refuses NUL and the other C0/C1 control characters (a multi-line field
keeps tabs and line breaks), lone surrogates (a JSON file can spell them as "\\ud800"),
U+FFFD and, in names and identifiers, the bidirectional override characters.

U+FFFD is refused everywhere: it is what invalid UTF-8 becomes when it is decoded with
errors="replace" (werkzeug does so in a multipart form; a percent-escaped "%ff" in a query
string or an urlencoded form it keeps as the text "%FF", so web/inputs.py looks for that
in the raw bytes); text that holds U+FFFD is broken.

shown() is the other half: it escapes whatever cannot be printed safely, for a terminal
or a report that quotes a value as the file gave it.
"""

import re
import unicodedata

from webapp.services.errors import ValidationError
from webapp.services.fields import IDENTIFIER_FIELDS, MULTILINE_FIELDS, NAME_FIELDS, SECRET_FIELDS

_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BROKEN = "\ud800-\udfff\ufffd"
_BIDI = "\u202a-\u202e\u2066-\u2069"


class Rule:
    """What a kind of field refuses (a compiled pattern), and whether it is NFC-normalized."""

    __slots__ = ("refused", "normalize")

    def __init__(self, refused, normalize=True):
        """Refuse what the pattern REFUSED matches; normalize unless NORMALIZE is false."""
        self.refused = re.compile(refused)
        self.normalize = normalize


# One line of text: no control character at all, tab and line breaks included.
LINE = Rule(f"[\t\n\r{_CONTROLS}{_BROKEN}]")
# Several lines: tab, line feed, and carriage return before a line feed (a browser sends CRLF).
LINES = Rule(f"[{_CONTROLS}{_BROKEN}]|\r(?!\n)")
# A name or an identifier: one line, and no override that shows it in another order.
NAME = Rule(f"[\t\n\r{_CONTROLS}{_BROKEN}{_BIDI}]")
# A password or PIN: one line, kept as typed, since its hash was made of the typed text.
SECRET = Rule(f"[\t\n\r{_CONTROLS}{_BROKEN}]", normalize=False)


class UnsafeText(ValidationError):
    """A value holds a character the field cannot take (HTTP 422, or a rejected sync row)."""

    def __init__(self, field, reason):
        """Refuse FIELD's value for REASON, e.g. 'contains a control character (U+001B)'."""
        self.message = f"{reason[0].upper()}{reason[1:]}."
        super().__init__({field: self.message})
        self.field = field
        self.reason = reason


def rule_of(field):
    """Return the Rule of FIELD as the field catalogue names it ('last_name', 'notes.text')."""
    if field in SECRET_FIELDS:
        return SECRET
    if field in MULTILINE_FIELDS:
        return LINES
    if field in NAME_FIELDS or field in IDENTIFIER_FIELDS:
        return NAME
    return LINE


def plain(value):
    """Tell whether VALUE is printable ASCII, which every rule takes as it is (the fast path)."""
    return value.isascii() and value.isprintable()


def taken_as_is(text):
    """Tell whether every rule takes TEXT as it is: nothing that any of them refuses, and NFC.

    What a rule refuses is unprintable, but for U+FFFD. For values joined by spaces: NFC
    never composes across a space, so the joined text is NFC exactly when each value is.
    """
    return text.isprintable() and "\ufffd" not in text and (
        text.isascii() or unicodedata.is_normalized("NFC", text))


def clean(value, field, rule=None):
    """Return VALUE normalized to NFC, or raise UnsafeText naming FIELD and the reason.

    RULE defaults to the one the field catalogue gives FIELD.
    """
    if value.isascii() and value.isprintable():
        return value
    rule = rule_of(field) if rule is None else rule
    refused = rule.refused.search(value)
    if refused is not None:
        raise UnsafeText(field, reason(refused.group()[0]))
    if not rule.normalize or unicodedata.is_normalized("NFC", value):
        return value
    return unicodedata.normalize("NFC", value)


def reason(char):
    """Return why CHAR is refused, in words a librarian understands."""
    code = f"U+{ord(char):04X}"
    if char == "\x00":
        return f"contains a NUL character ({code})"
    if char in "\t\n\r":
        return f"contains a tab or a line break ({code}); it holds one line"
    if "\ud800" <= char <= "\udfff":
        return f"contains half of a character ({code}, a lone surrogate), which is not valid text"
    if char == "\ufffd":
        return f"contains {code}, the mark left where text was not valid UTF-8"
    if ord(char) < 0xA0:
        return f"contains a control character ({code})"
    return f"contains a character that changes the direction text is shown in ({code})"


def shown(value):
    """Return VALUE with every character that cannot be printed escaped, as '\\x1b' or '\\u202e'."""
    value = str(value)
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else _escaped(c) for c in value)


def _escaped(char):
    """Return CHAR escaped the way Python writes it in a string literal."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
