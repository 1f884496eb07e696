"""The report of a run: counts, digest, rejected rows, overwritten local edits, per-user changes."""

import hashlib
import json

from webapp.services.sync.compare import created_values

# What a report keeps of long lists; the counts are always complete.
KEEP_DIFFS = 500
KEEP_OVERWRITTEN = 2000
KEEP_ERRORS = 10000


def user_name(user, row):
    """Return 'Last, First' of the stored USER, or of the file's ROW for a new one."""
    if user and "last_name" in user:
        first = user.get("pref_first_name") or user.get("first_name") or ""
        last = user.get("pref_last_name") or user.get("last_name") or ""
    else:
        first = row.fields.get("pref_first_name") or row.fields.get("first_name", "")
        last = row.fields.get("pref_last_name") or row.fields.get("last_name", "")
    return f"{last}, {first}" if first else last


class Tally:
    """Counts the plans of a pass, digests them, and keeps the lists a report shows."""

    def __init__(self):
        """Start with nothing counted."""
        self.counts = {"created": 0, "updated": 0, "unchanged": 0, "deactivated": 0, "rejected": 0}
        self.digest = hashlib.sha256()
        self.errors, self.errors_total = [], 0
        self.diffs, self.diffs_total = [], 0
        self.overwritten, self.overwritten_total = [], 0
        self.unnumbered = []  # (plan, report entry) of created users, see number_created

    def record(self, plan):
        """Count PLAN, add it to the digest and the report."""
        if plan.errors:
            self._reject(plan)
            return
        if not plan.log:
            if not plan.missing:
                self.counts["unchanged"] += 1
            return
        if plan.action == "unchanged":
            plan.action = "updated"
        self.counts[plan.action] += 1
        row = plan.row
        self.digest.update(repr((plan.action, row.external_id, plan.user_id, plan.log)).encode())
        self.diffs_total += 1
        # The name is shown only in the lists a report keeps.
        name = user_name(plan.user, row) if len(self.diffs) < KEEP_DIFFS or plan.overwritten else ""
        if len(self.diffs) < KEEP_DIFFS:
            changes = created_values(plan) if plan.user is None else plan.log
            entry = {"action": plan.action, "external_id": row.external_id, "user_id": plan.user_id,
                     "name": name, "line": row.line, "changes": [list(e) for e in changes]}
            self.diffs.append(entry)
            if plan.user is None:
                # A created user gets its id when written; the report links to it then.
                self.unnumbered.append((plan, entry))
        for what, local, incoming in plan.overwritten:
            self.overwritten_total += 1
            if len(self.overwritten) < KEEP_OVERWRITTEN:
                self.overwritten.append({"external_id": row.external_id, "user_id": plan.user_id,
                                         "name": name, "what": what, "local": local,
                                         "file": incoming})

    def _reject(self, plan):
        """Count a rejected PLAN and keep its errors."""
        row = plan.row
        plan.action = "rejected"
        self.counts["rejected"] += 1
        for message in plan.errors:
            self.errors_total += 1
            self.digest.update(repr(("error", row.line, message)).encode())
            if len(self.errors) < KEEP_ERRORS:
                self.errors.append({"line": row.line, "external_id": row.external_id,
                                    "message": message})

    def number_created(self, written):
        """Give the report entries of created users their ids once WRITTEN; forget them."""
        if written:
            for plan, entry in self.unnumbered:
                entry["user_id"] = plan.user_id
        self.unnumbered = []

    def report(self):
        """Return the counts and lists of this pass as a report."""
        return {
            "counts": dict(self.counts),
            "digest": self.digest.hexdigest(),
            "errors": self.errors,
            "errors_total": self.errors_total,
            "diffs": self.diffs,
            "diffs_total": self.diffs_total,
            "overwritten": self.overwritten,
            "overwritten_total": self.overwritten_total,
        }


def report(run):
    """Return the report of RUN as a dict."""
    try:
        found = json.loads(run.report or "{}")
    except ValueError:
        found = {}
    found.setdefault("file_errors", [])
    for key in ("errors", "diffs", "overwritten"):
        found.setdefault(key, [])
        found.setdefault(f"{key}_total", len(found[key]))
    found.setdefault("options", {})
    return found
