"""One pass over a file: a chunk of rows at a time, compared, counted and (when applying) written.

A chunk costs a few queries (its users, provenance and segments), never one per row. An
unchanged user costs a comparison, not a write: each applied row leaves a fingerprint of
itself and the user's version (SyncState); when the next file has the same row and the
user's version has not moved, the row is skipped without reading the record.
"""

import gc

from webapp.services.clock import now
from webapp.services.sync import compare, stored
from webapp.services.sync.entries import entries, read_row
from webapp.services.sync.report import Tally
from webapp.services.sync.rows import Row
from webapp.services.sync.writer import Writer

# Rows compared per round trip: a few queries load a chunk's users, provenance and segments.
CHUNK = 1000


class Pass:
    """One comparison of a file with the database; writes too when WRITE is true."""

    def __init__(self, source, actor, run_id, *, write, deactivate_missing, skip_invalid,
                 progress=None):
        """Set up a pass for SOURCE as ACTOR, recorded as run RUN_ID."""
        self.source = source
        self.write = write
        self.deactivate_missing = deactivate_missing
        self.skip_invalid = skip_invalid
        self.progress = progress
        self.writer = Writer(source, actor, f"sync {run_id}", now())
        self.tally = Tally()
        self.file = None
        self.done = 0

    def run(self, sync_file):
        """Compare every row of SYNC_FILE, then the users missing from it."""
        self.file = sync_file
        # The pass makes and drops millions of small objects and no reference cycles:
        # the cycle collector would only walk them again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            chunk = []
            for entry in entries(sync_file):
                chunk.append(entry)
                if len(chunk) == CHUNK:
                    self._chunk(chunk)
                    chunk = []
            if chunk:
                self._chunk(chunk)
            if self.deactivate_missing and not sync_file.errors:
                self._missing(set(sync_file.lines_of))
        finally:
            if collecting:
                gc.enable()

    def report(self):
        """Return the counts and lists of this pass as a report."""
        return self.tally.report()

    @property
    def writing(self):
        """Tell whether this pass writes what it finds."""
        return self.write and not self.file.errors and (self.skip_invalid or not self.tally.errors_total)

    def _chunk(self, chunk):
        """Compare a chunk of entries, skipping rows unchanged since the last run."""
        records = stored.user_records(self.source, [e.external_id for e in chunk if e.external_id])
        at = stored.FINGERPRINT_AT
        plans = []
        for entry in chunk:
            record = records.get(entry.external_id)
            if record is not None and record[at] == entry.fingerprint \
                    and record[at + 1] == record[1] and not entry.errors:
                # The same row as last time, and nobody changed the user since: nothing to do.
                self.tally.counts["unchanged"] += 1
                continue
            plans.append(compare.plan_for(read_row(self.file, entry), stored.as_user(record)))
        self._settle(plans)
        self.done += len(chunk)
        if self.progress:
            self.progress(self.done, max(self.file.estimate, self.done))

    def _missing(self, present):
        """Deactivate the users of this source that the file no longer lists."""
        missing = [ext for ext in stored.external_ids(self.source) if ext not in present]
        for start in range(0, len(missing), CHUNK):
            records = stored.user_records(self.source, missing[start : start + CHUNK])
            self._settle([compare.plan_for(Row(None, ext, fields={"status": "inactive"}),
                                           stored.as_user(record), missing=True)
                          for ext, record in records.items()])

    def _settle(self, plans):
        """Load what the plans need in bulk, work out each plan, then record and write them."""
        ids = [p.user["id"] for p in plans if p.user and not p.errors]
        states = stored.field_states(ids) if ids else {}
        kinds = {k for p in plans if not p.errors for k in p.row.segments}
        compare.compare(plans, states, {kind: stored.stored_segments(kind, ids) for kind in kinds})
        for plan in plans:
            self.tally.record(plan)
        writing = self.writing
        if writing:
            self.writer.write([p for p in plans if p.log and not p.errors])
            self.writer.remember([p for p in plans if not p.errors and p.row.fingerprint])
        self.tally.number_created(writing)
