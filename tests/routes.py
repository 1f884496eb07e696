"""The one list of the app's routes that the permission and HTML tests walk."""

import dataclasses
import re

# <name>, <int:name> or <converter(args):name> in a rule as written.
ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


@dataclasses.dataclass(frozen=True)
class Route:
    """One method of one rule, and the view that answers it."""

    endpoint: str
    rule: str
    method: str
    view: object

    def url(self, user_id):
        """Return the route's address, with USER_ID for an int argument and 'general' else."""
        def value(match):
            return str(user_id) if match.group("converter") == "int" else "general"

        return ARGUMENT.sub(value, self.rule)


def app_routes(app, methods=None):
    """Return every route of APP but static files, one per method (HEAD and OPTIONS left out)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if methods is None or method in methods:
                found.append(Route(rule.endpoint, rule.rule, method, app.view_functions[rule.endpoint]))
    return found
