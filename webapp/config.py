"""Default configuration; instance/config.py and WEBAPP_ environment variables override it."""

# None: sqlite:///<instance>/library.sqlite. Any playhouse.db_url URL works, e.g.
# postgresql://user:password@host/dbname.
DATABASE_URL = None

# Minutes of inactivity after which a staff member must sign in again.
IDLE_TIMEOUT_MINUTES = 30

# Failed sign-ins allowed in SIGNIN_WINDOW_MINUTES before sign-in is refused.
SIGNIN_MAX_FAILURES_PER_ACCOUNT = 5
SIGNIN_MAX_FAILURES_PER_ADDRESS = 20
SIGNIN_WINDOW_MINUTES = 15

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

# Level of the webapp loggers (DEBUG, INFO, WARNING, ERROR) and the format of their lines:
# "text" for people, "json" (one object a line) for a log collector.
LOG_LEVEL = "INFO"
LOG_FORMAT = "text"

# How many reverse proxies (nginx, a load balancer) stand in front of the app: their
# X-Forwarded-For and X-Forwarded-Proto are trusted that many hops deep, so throttling
# and the sign-in log see the client's address. 0: no proxy; the headers are ignored.
PROXY_HOPS = 0
