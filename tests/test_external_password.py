"""External accounts never have a usable local password, and changing an account to external says so."""

from webapp.db import db
from webapp.models import User
from webapp.services.passwords import hash_secret


def test_an_external_account_gets_no_local_password(client, login_as, patrons):
    login_as("User Administrator")
    uid = patrons["external"]
    assert "Set password" not in client.get(f"/users/{uid}").get_data(as_text=True)
    refused = client.post(f"/users/{uid}/password",
                          data={"password": "long enough one", "password_confirm": "long enough one"})
    assert refused.status_code == 403
    with db.connection_context():
        assert User.get_by_id(uid).password_hash is None


def test_making_an_account_external_says_it_loses_its_password(client, login_as, patrons):
    login_as("User Administrator")
    uid = patrons["internal"]
    with db.connection_context():
        User.update(password_hash=hash_secret("an old password!")).where(User.id == uid).execute()
    page = client.get(f"/users/{uid}/account-type?to=external").get_data(as_text=True)
    assert "has no password here: its password is removed" in page
    assert "directory or single sign-on" in page
    done = client.post(f"/users/{uid}/account-type",
                       data={"version": "1", "source": "SIS", "external_id": "S9"},
                       follow_redirects=True)
    assert "It has no password here" in done.get_data(as_text=True)
    with db.connection_context():
        assert User.get_by_id(uid).password_hash is None
