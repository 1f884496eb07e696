"""Writing a chunk's plans with a few bulk statements, closed by the one write path."""

import operator

from peewee import chunked

from webapp import db as database
from webapp.db.sql import insert_rows
from webapp.models import SEGMENT_MODELS, FieldState, User
from webapp.services import search, sessions
from webapp.services.sync import queries
from webapp.services.sync.rows import SEGMENT_COMPARED
from webapp.services.users.changes import record_changes

# What every user a file brings is.
NEW_USER = {"account_type": "external", "record_type": "public"}


class Writer:
    """Writes the plans of one pass for SOURCE, as ACTOR, through VIA, at WHEN."""

    def __init__(self, source, actor, via, when):
        """Set up the writes of one pass; stamp them at WHEN."""
        self.source = source
        self.actor = actor
        self.via = via
        self.when = when
        # The time as SQLite stores it (peewee's own format), converted once instead of per row.
        self.stamp = when.isoformat(" ") if database.is_sqlite() else when

    def write(self, plans):
        """Write the changes of PLANS, then record them (version, stamps, history, index)."""
        stored = [p for p in plans if p.user is not None]
        new = [p for p in plans if p.user is None]
        if new:
            self._create_users(new)
        self._update_users(stored)
        # A created user has no provenance or stored segments to change.
        ids = [i for p in stored for i in p.drop_states]
        for part in chunked(ids, queries.IN_LIST):
            FieldState.delete().where(FieldState.id.in_(part)).execute()
        queries.executemany(queries.update_sql(FieldState, ["source_value"]),
                            [(text, fs_id) for p in stored for fs_id, text in p.source_values])
        for kind in SEGMENT_MODELS:
            self._write_segments(kind, stored, plans)
        record_changes({p.user_id: p.log for p in plans}, actor=self.actor.name, via=self.via,
                       at=self.when, reindex=[p.user_id for p in stored if p.reindex])
        # A deactivated account is signed out at once, as a deactivation by staff does.
        sessions.end_all_of([p.user_id for p in stored if p.fields.get("status") == "inactive"])
        self._index_created(new)

    def remember(self, plans):
        """Keep each row's fingerprint with the user's version after this run (see SyncState)."""
        # record_changes raised the version of every user with history entries by one.
        queries.executemany(queries.remember_sql(), [
            (p.user_id, p.row.fingerprint, 1 if p.action == "created" else
             p.user["version"] + (1 if p.log else 0)) for p in plans])

    def _update_users(self, plans):
        """Write the changed columns of stored users, one statement per set of columns."""
        groups = {}
        for plan in plans:
            groups.setdefault(tuple(sorted(plan.fields)), []).append(plan)
        for fields, members in groups.items():
            converters = [User._meta.fields[f].db_value for f in fields]
            queries.executemany(
                queries.update_sql(User, list(fields) + ["last_synced_at"]),
                [tuple(conv(p.fields[f]) for conv, f in zip(converters, fields, strict=True))
                 + (self.stamp, p.user_id) for p in members],
            )

    def _write_segments(self, kind, stored, plans):
        """Drop, restore and replace the segments of KIND that STORED users' plans change.

        Then add the new segments of every one of PLANS.
        """
        model = SEGMENT_MODELS[kind]
        for part in chunked([i for p in stored for i in p.drop_segments.get(kind, ())], queries.IN_LIST):
            model.delete().where(model.id.in_(part)).execute()
        restored = [i for p in stored for i in p.restore_segments.get(kind, ())]
        for part in chunked(restored, queries.IN_LIST):
            model.update(edited_locally=False).where(model.id.in_(part)).execute()
        compared = SEGMENT_COMPARED[kind]
        queries.executemany(queries.update_sql(model, list(compared) + ["edited_locally"]),
                            [tuple(values[f] for f in compared) + (False, i)
                             for p in stored for i, values in p.replace_segments.get(kind, ())])
        common = {"segment": "external", "edited_locally": False}
        if kind == "notes":
            common.update(created_by=self.actor.name, created_at=self.stamp)
        table = _Table(model, common)
        table.insert([table.pick({**table.base, **values, "user": plan.user_id}) for plan in plans
                      for values in plan.add_segments.get(kind, ())])

    def _create_users(self, plans):
        """Insert the users the file brings and learn their ids."""
        when, actor = self.stamp, self.actor.name
        # Version 0: record_changes raises it to 1 with the "created" history entry.
        table = _Table(User, dict(NEW_USER, source=self.source, last_synced_at=when, created_at=when,
                                  created_by=actor, modified_at=when, modified_by=actor, version=0))
        base, pick = table.base, table.pick
        ids = dict(table.insert([pick({**base, **plan.fields, "external_id": plan.row.external_id})
                                 for plan in plans], returning=("external_id", "id")))
        for plan in plans:
            plan.user = {"id": ids[plan.row.external_id]}

    def _index_created(self, plans):
        """Write the search index of the users PLANS created, from the values written."""
        if not plans:
            return
        status = User.status.default
        account, record = NEW_USER["account_type"], NEW_USER["record_type"]
        names, blank = search.NAME_FIELDS, [""] * len(search.NAME_FIELDS)
        users = []
        for plan in plans:
            fields, added = plan.fields, plan.add_segments
            users.append((plan.user["id"], account, record, fields.get("status") or status,
                          list(map(fields.get, names, blank)),
                          [fields["primary_id"], *[v["value"] for v in added.get("identifiers", ())]],
                          [v["address"] for v in added.get("emails", ())]))
        search.index_new_users(users)


class _Table:
    """Rows of MODEL to insert in bulk: picked from dicts over its defaults and COMMON values."""

    def __init__(self, model, common):
        """Work out MODEL's columns and the values a row has unless it says otherwise."""
        self.model = model
        self.fields = [f for f in model._meta.sorted_fields if not f.primary_key]
        self.base = {}
        for field in self.fields:
            default = field.default
            self.base[field.name] = default() if callable(default) else default
        self.base.update(common)
        # A row is picked in C from one merged dict (bench: "sync all new").
        self.pick = operator.itemgetter(*[f.name for f in self.fields])

    def insert(self, rows, returning=None):
        """Insert ROWS (picked tuples); return the RETURNING columns of each, in no particular order.

        Statements of many rows: 25 to 40 % faster than one by one for rows appended to a table.
        """
        if not rows:
            return []
        return insert_rows(queries.quoted(self.model._meta.table_name),
                           [queries.quoted(f.column_name) for f in self.fields], rows,
                           returning=returning and [queries.column(self.model, n) for n in returning])
