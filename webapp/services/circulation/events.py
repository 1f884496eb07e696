"""Loan events in the patron's history: lines of the History tab that are not edits of the record.

A checkout or a return is not a change of the user record, so it writes its history row
here and leaves the record's version, modified at and modified by as they are.
"""

from peewee import chunked

from webapp.models import History

CHUNK = 500


def event_field(loan_id):
    """Return the history field that names loan LOAN_ID's events."""
    return f"Loan {loan_id}"


def record_event(user_id, actor_name, via, field, text, at):
    """Write one loan event of patron USER_ID to the history."""
    History.insert(user=user_id, at=at, actor=actor_name, via=via, field=field, old=None,
                   new=text).execute()


def forget_events(user_id, loan_ids):
    """Delete the history lines of the loans LOAN_IDS of patron USER_ID."""
    for batch in chunked(loan_ids, CHUNK):
        (History.delete().where((History.user == user_id)
                                & History.field.in_([event_field(i) for i in batch])).execute())
