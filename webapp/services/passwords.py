"""Hash and check passwords and PINs with argon2."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when an account has no hash, so a wrong identifier costs the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone's")

MIN_PASSWORD_LENGTH = 10


def hash_secret(secret):
    """Return an argon2 hash of SECRET."""
    return _hasher.hash(secret)


def check_secret(stored_hash, secret):
    """Tell whether SECRET matches STORED_HASH; a missing hash never matches."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password):
    """Return why PASSWORD is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 200:
        return "Use at most 200 characters."
    return None
