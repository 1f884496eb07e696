"""Sign-in limits per account at an address and per address, counted before a password is checked.

Each attempt takes its place in both counters in one write transaction (IMMEDIATE on
SQLite, the rows locked on PostgreSQL) before the password is checked, so concurrent
attempts never get more checks than the limit between them. Past the limit each further
failure doubles the wait instead of locking the account: a stranger's guesses throttle
only the stranger's own address.
"""

import dataclasses
import datetime
import math

from webapp.db import db, is_sqlite
from webapp.models import SignInLimit
from webapp.services.clock import now


class Throttled(Exception):
    """Too many failed sign-ins for this account at this address, or from this address."""

    def __init__(self, retry_after):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True)
class Limits:
    """How many failures a streak may have before its waits begin, and how long they are."""

    per_pair: int
    per_address: int
    window_minutes: int
    first_delay_seconds: int
    max_delay_minutes: int

    @classmethod
    def from_config(cls, config):
        """Return the limits of the SIGNIN_* settings."""
        return cls(config["SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS"],
                   config["SIGNIN_MAX_FAILURES_PER_ADDRESS"], config["SIGNIN_WINDOW_MINUTES"],
                   config["SIGNIN_FIRST_DELAY_SECONDS"], config["SIGNIN_MAX_DELAY_MINUTES"])

    def delay(self, failures, limit):
        """Return the wait after FAILURES of a streak whose limit is LIMIT."""
        doublings = min(failures - limit, 30)
        return min(datetime.timedelta(seconds=self.first_delay_seconds * 2**doublings),
                   datetime.timedelta(minutes=self.max_delay_minutes))


def _pair_key(identifier, address):
    return f"pair {(identifier or '')[:100].lower()} {(address or '')[:64]}"


def _keys(identifier, address, limits):
    """Return {counter key: its limit} for an attempt at IDENTIFIER from ADDRESS."""
    return {_pair_key(identifier, address): limits.per_pair,
            f"address {(address or '')[:64]}": limits.per_address}


def _locked(keys):
    """Return the counters of KEYS, locked until the transaction ends, in key order."""
    query = SignInLimit.select().where(SignInLimit.key.in_(sorted(keys))).order_by(SignInLimit.key)
    # SQLite: the IMMEDIATE transaction already holds the database's write lock.
    return list(query if is_sqlite() else query.for_update())


def reserve(identifier, address, limits):
    """Count one attempt before its password is checked; raise Throttled while a counter waits."""
    at = now()
    keys = _keys(identifier, address, limits)
    with db.atomic():
        (SignInLimit.insert_many([{"key": key, "last_failure_at": at} for key in sorted(keys)])
         .on_conflict_ignore().execute())
        rows = _locked(keys)
        waits = [row.blocked_until - at for row in rows if row.blocked_until and row.blocked_until > at]
        if waits:
            raise Throttled(math.ceil(max(waits).total_seconds()))
        for row in rows:
            if at - row.last_failure_at > datetime.timedelta(minutes=limits.window_minutes):
                row.failures = 0  # a quiet window ends the streak
            row.failures += 1
            row.last_failure_at = at
            limit = keys[row.key]
            row.blocked_until = at + limits.delay(row.failures, limit) if row.failures >= limit else None
            row.save()


def release(identifier, address, limits, *, signed_in):
    """Give back an attempt that was no guess: a sign-in (which ends its pair's streak) or an outage."""
    keys = _keys(identifier, address, limits)
    with db.atomic():
        if signed_in:
            pair = _pair_key(identifier, address)
            SignInLimit.delete().where(SignInLimit.key == pair).execute()
            keys.pop(pair)
            # Counters whose streak and wait are long over would start afresh: forget them.
            over = now() - datetime.timedelta(minutes=limits.window_minutes + limits.max_delay_minutes)
            SignInLimit.delete().where(SignInLimit.last_failure_at < over).execute()
        for row in _locked(keys):
            row.failures -= 1
            if row.failures <= 0:
                row.delete_instance()
                continue
            if row.failures < keys[row.key]:
                row.blocked_until = None
            row.save()
