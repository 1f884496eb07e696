"""With CSRF protection on, as in production: a post without the token changes nothing."""

from tests.conftest import PASSWORD, ROLE_LOGINS, csrf_token_from

ADMIN = ROLE_LOGINS["General System Administrator"]


def test_sign_in_without_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/sign-in", data={"identifier": ADMIN, "password": PASSWORD})
    assert response.status_code == 400
    assert b"The form expired" in response.data


def test_sign_in_and_sign_out_with_tokens(csrf_app):
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in", data={"identifier": ADMIN, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get("/users/").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    # Sign-out without the token is refused and the session survives.
    assert client.post("/sign-out").status_code == 400
    assert client.get("/users/").status_code == 200
    token = csrf_token_from(page)
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/users/").status_code == 302


def test_htmx_header_token_is_accepted(csrf_app):
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    client.post("/sign-in", data={"identifier": ADMIN, "password": PASSWORD, "csrf_token": token})
    page = client.get("/users/").get_data(as_text=True)
    header_token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    response = client.post("/sign-out", headers={"X-CSRFToken": header_token, "HX-Request": "true"})
    assert response.status_code == 302
