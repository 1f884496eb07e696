"""Settings the library changes in Admin › Settings: the semester end dates."""

import datetime

from webapp.db import db
from webapp.models import Setting
from webapp.services import config_changes
from webapp.services.errors import ValidationError
from webapp.services.permissions import require

SEMESTER_ENDS_KEY = "semester_ends"
# Month and day each semester ends on, when the library has not set its own.
DEFAULT_SEMESTER_ENDS = ((7, 31), (12, 31))
# Any year that is not a leap year: 29 February is refused, it would not exist most years.
_PLAIN_YEAR = 2001


def semester_ends():
    """Return the (month, day) each semester ends on, in calendar order."""
    setting = Setting.get_or_none(Setting.key == SEMESTER_ENDS_KEY)
    if setting is None:
        return list(DEFAULT_SEMESTER_ENDS)
    ends = []
    for part in setting.value.split():
        month, _, day = part.partition("-")
        ends.append((int(month), int(day)))
    return sorted(ends) or list(DEFAULT_SEMESTER_ENDS)


def parse_month_day(text):
    """Return (month, day) from 'MM-DD' or a full date 'YYYY-MM-DD', or None when it is not one."""
    text = (text or "").strip()
    parts = text.split("-")
    if len(parts) == 3:
        parts = parts[1:]
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    try:
        day = datetime.date(_PLAIN_YEAR, int(parts[0]), int(parts[1]))
    except ValueError:
        return None
    return day.month, day.day


def set_semester_ends(texts, *, actor):
    """Store the semester end dates typed in TEXTS ('MM-DD'; empty ones are skipped)."""
    require(actor, "system.admin")
    ends, errors = set(), {}
    for n, text in enumerate(texts):
        if not (text or "").strip():
            continue
        parsed = parse_month_day(text)
        if parsed is None:
            errors[f"end{n}"] = "Enter a month and day as MM-DD, such as 07-31 (not 29 February)."
        else:
            ends.add(parsed)
    if not ends and not errors:
        errors["end0"] = "Enter at least one semester end date."
    if errors:
        raise ValidationError(errors)
    value = _as_text(ends)
    with db.atomic():
        config_changes.record(actor, "setting", SEMESTER_ENDS_KEY,
                              [("Semester end dates", _as_text(semester_ends()), value)])
        Setting.insert(key=SEMESTER_ENDS_KEY, value=value).on_conflict(
            conflict_target=[Setting.key], update={Setting.value: value}).execute()
    return sorted(ends)


def _as_text(ends):
    """Return the (month, day) pairs ENDS as the setting stores them: 'MM-DD MM-DD'."""
    return " ".join(f"{m:02d}-{d:02d}" for m, d in sorted(ends))


def _ends_from(day, count):
    """Return the first COUNT semester end dates on or after DAY."""
    found, ends = [], semester_ends()
    year = day.year
    while len(found) < count:
        for month, dom in ends:
            end = datetime.date(year, month, dom)
            if end >= day:
                found.append(end)
        year += 1
    return found[:count]


def current_semester_end(today):
    """Return the last day of the semester TODAY is in."""
    return _ends_from(today, 1)[0]


def next_semester_end(today):
    """Return the last day of the semester after the one TODAY is in."""
    return _ends_from(today, 2)[1]
