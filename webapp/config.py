"""Default configuration; instance/config.py and WEBAPP_ environment variables override it."""

# None: sqlite:///<instance>/library.sqlite. Any playhouse.db_url URL works, e.g.
# postgresql://user:password@host/dbname.
DATABASE_URL = None

# Minutes of inactivity after which a staff member must sign in again.
IDLE_TIMEOUT_MINUTES = 30

# Failed sign-ins of one account from one address, and of any accounts from one address,
# before sign-in there waits SIGNIN_FIRST_DELAY_SECONDS; each further failure doubles the
# wait, up to SIGNIN_MAX_DELAY_MINUTES. A streak ends after SIGNIN_WINDOW_MINUTES without
# a failure, and a right password ends its account's streak at that address.
SIGNIN_MAX_FAILURES_PER_ACCOUNT_AT_ADDRESS = 5
SIGNIN_MAX_FAILURES_PER_ADDRESS = 20
SIGNIN_WINDOW_MINUTES = 15
SIGNIN_FIRST_DELAY_SECONDS = 60
SIGNIN_MAX_DELAY_MINUTES = 60

# Largest synchronization file accepted, in bytes.
SYNC_MAX_BYTES = 50 * 1024 * 1024
MAX_CONTENT_LENGTH = SYNC_MAX_BYTES + 1024 * 1024

# Page size of the user search.
SEARCH_PAGE_SIZE = 25

# Whom a staff member without a user management role should ask.
USER_ADMIN_CONTACT = "a User Administrator"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_DURATION = 0
WTF_CSRF_TIME_LIMIT = None

# Directory sign-in (LDAP or Active Directory) for external accounts; off while LDAP_URL
# is empty. LDAP_URL takes one or several ldap:// or ldaps:// URLs (blank- or
# comma-separated), tried in order. The README's Configuration section has examples.
LDAP_URL = ""
LDAP_START_TLS = False
LDAP_CA_FILE = ""
LDAP_TIMEOUT_SECONDS = 5
# The service account that searches for the person; both empty: an anonymous search.
LDAP_BIND_DN = ""
LDAP_BIND_PASSWORD = ""
LDAP_USER_BASE = ""
# {identifier} is what the person typed, with the filter's special characters escaped.
LDAP_USER_FILTER = "(uid={identifier})"
# The directory attribute, and what it is compared with here: primary_id or an identifier
# type such as university_id.
LDAP_MATCH_ATTRIBUTE = "uid"
LDAP_MATCH_IDENTIFIER = "primary_id"

# Single sign-on by a reverse proxy that puts the signed-in user in SSO_HEADER; off while
# SSO_HEADER is empty. The header is believed only from SSO_TRUSTED_PROXIES (addresses or
# networks, blank- or comma-separated).
SSO_HEADER = ""
SSO_TRUSTED_PROXIES = ""
SSO_MATCH_IDENTIFIER = "primary_id"

# Hours after which an external account signs in again, however active it has been.
EXTERNAL_SESSION_HOURS = 12

# When a loan is due on its last day (HH:MM, the server's clock).
LIBRARY_CLOSING_TIME = "23:59"

# Closed loans older than this many days are detached from their patrons by
# `flask --app webapp anonymize-loans`; None keeps them.
ANONYMIZE_LOANS_AFTER_DAYS = None

# Level of the webapp loggers (DEBUG, INFO, WARNING, ERROR) and the format of their lines:
# "text" for people, "json" (one object a line) for a log collector.
LOG_LEVEL = "INFO"
LOG_FORMAT = "text"

# How many reverse proxies (nginx, a load balancer) stand in front of the app: their
# X-Forwarded-For and X-Forwarded-Proto are trusted that many hops deep, so throttling
# and the sign-in log see the client's address. 0: no proxy; the headers are ignored.
PROXY_HOPS = 0
