"""Circulation routes: the desk's loans section, Return items, Admin › Items and Loan policies."""

import datetime

import pytest

from tests.conftest import PASSWORD, ROLE_LOGINS, csrf_token_from
from webapp.db import db
from webapp.models import Item, Library, Loan, LoanPolicy, User

OPERATOR = "Circulation Desk Operator"
MANAGER = "Circulation Desk Manager"
ADMIN = "General System Administrator"


@pytest.fixture
def shelf(app, patrons):
    """Three items at the main library; the internal patron's account expires in a week."""
    with db.connection_context():
        main = Library.get(Library.code == "MAIN")
        for n in (1, 2, 3):
            Item.create(barcode=f"IT{n}", barcode_key=f"it{n}", title=f"Atlas {n}", library=main)
        User.update(expiry_date=datetime.date.today() + datetime.timedelta(days=7)).where(
            User.id == patrons["internal"]).execute()
        User.update(expiry_date=datetime.date.today() + datetime.timedelta(days=400)).where(
            User.id == patrons["external"]).execute()
    return patrons


def check_out(client, user_id, barcode, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/desk/patrons/{user_id}/loans", data={"barcode": barcode},
                       headers=headers)


def loan_of(barcode):
    with db.connection_context():
        return Loan.get(Loan.item_barcode == barcode)


def test_scan_answers_the_loans_section_with_the_new_loan_first(login_as, shelf):
    client = login_as(OPERATOR)
    check_out(client, shelf["external"], "IT1")
    response = check_out(client, shelf["external"], "it2")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.index("IT2") < page.index("IT1")
    assert 'id="scan-item"' in page and "autofocus" in page
    assert "Due date shortened" not in page
    assert "Checked out IT2" in page


def test_a_shortened_loan_alerts_and_only_a_manager_sees_extend(client, login_as, shelf, htmx_client):
    desk = login_as(OPERATOR)
    page = check_out(desk, shelf["internal"], "IT1").get_data(as_text=True)
    expiry = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()
    assert f"Due date shortened to the patron's expiry date, {expiry}" in page
    assert "Extend due date" not in page
    loan = loan_of("IT1")
    crafted = htmx_client.post(f"/desk/loans/{loan.id}/extend")
    assert crafted.status_code == 403
    assert loan_of("IT1").due_at == loan.due_at
    client.post("/sign-out")
    manager = login_as(MANAGER)
    shown = manager.get(f"/desk/?patron={shelf['internal']}").get_data(as_text=True)
    assert "Extend due date" in shown  # on the shortened loan's row
    extended = htmx_client.post(f"/desk/loans/{loan.id}/extend")
    assert extended.status_code == 200
    stored = loan_of("IT1")
    assert stored.due_at == stored.policy_due_at and stored.extended_by == ROLE_LOGINS[MANAGER]


def test_without_javascript_a_scan_redirects_to_the_page_with_the_alert(login_as, shelf):
    client = login_as(OPERATOR)
    response = check_out(client, shelf["internal"], "IT1", htmx=False)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert "Due date shortened" in page and "IT1" in page


@pytest.mark.parametrize(("barcode", "status", "reason"), [
    ("NOPE", 422, "No item has the barcode NOPE."),
    ("IT1", 409, "The item IT1 is on loan to another patron."),
])
def test_refusals_are_shown_in_place_with_the_barcode_kept(login_as, shelf, barcode, status,
                                                          reason):
    client = login_as(OPERATOR)
    check_out(client, shelf["external"], "IT1")
    for htmx in (True, False):
        response = check_out(client, shelf["internal"], barcode, htmx=htmx)
        assert response.status_code == status
        page = response.get_data(as_text=True)
        assert reason in page and f'value="{barcode}"' in page
        assert "Exton" not in page.split('id="desk-loans"')[-1]  # the other patron is not named


def test_renew_renew_all_lost_found_and_relink(login_as, shelf):
    client = login_as(OPERATOR)
    hx = {"HX-Request": "true"}
    user_id = shelf["external"]
    check_out(client, user_id, "IT1")
    loan = loan_of("IT1")
    renewed = client.post(f"/desk/loans/{loan.id}/renew", headers=hx)
    assert renewed.status_code == 422  # the same day: the due date would not move
    assert "renewing today would not move the due date" in renewed.get_data(as_text=True)
    everything = client.post(f"/desk/patrons/{user_id}/loans/renew", headers=hx)
    assert "Renewed 0 of 1 loans." in everything.get_data(as_text=True)
    assert client.post(f"/desk/loans/{loan.id}/lost", headers=hx).status_code == 200
    closed = client.get(f"/desk/patrons/{user_id}/loans?view=closed", headers=hx)
    assert "Re-link to patron" in closed.get_data(as_text=True)
    bad = client.post(f"/desk/loans/{loan.id}/relink", data={"due_date": "soon"}, headers=hx)
    assert bad.status_code == 422
    relinked = client.post(f"/desk/loans/{loan.id}/relink", data={"due_date": ""}, headers=hx)
    assert "no notice was sent" in relinked.get_data(as_text=True)
    assert loan_of("IT1").status == "open"
    client.post(f"/desk/loans/{loan.id}/lost", headers=hx)
    assert client.post(f"/desk/loans/{loan.id}/found", headers=hx).status_code == 200
    assert loan_of("IT1").status == "returned"
    again = client.post(f"/desk/loans/{loan.id}/found", headers=hx)
    assert again.status_code == 409


def test_return_items_lists_each_return_with_patron_and_overdue(login_as, shelf, htmx_client):
    client = login_as(OPERATOR)
    check_out(client, shelf["external"], "IT1")
    check_out(client, shelf["internal"], "IT2")
    with db.connection_context():
        Loan.update(due_at=datetime.datetime(2020, 1, 1)).where(Loan.item_barcode == "IT2").execute()
    first = htmx_client.post("/circulation/return", data={"barcode": "IT1"})
    earlier = loan_of("IT1").id
    second = htmx_client.post("/circulation/return", data={"barcode": "IT2", "returned": [earlier]})
    assert first.status_code == second.status_code == 200
    page = second.get_data(as_text=True)
    assert page.index("IT2") < page.index("IT1")
    assert "Ida Inman" in page and "Ezra Exton" in page and "Overdue" in page
    unknown = client.post("/circulation/return", data={"barcode": "IT3"})
    assert unknown.status_code == 409 and "not on loan" in unknown.get_data(as_text=True)


def test_admin_items_find_add_edit(login_as, shelf, htmx_client):
    client = login_as(ADMIN)
    with db.connection_context():
        main = Library.get(Library.code == "MAIN").id
    assert "Atlas 2" in client.get("/admin/items?q=atlas").get_data(as_text=True)
    bad = client.post("/admin/items/new", data={"barcode": "it1", "title": "", "library": main})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Title is required." in text and 'value="it1"' in text
    added = client.post("/admin/items/new", data={"barcode": "NEW1", "title": "Tides",
                                                  "library": main})
    assert added.status_code == 303
    with db.connection_context():
        item = Item.get(Item.barcode == "NEW1")
    edited = htmx_client.post(f"/admin/items/{item.id}", data={"barcode": "NEW1", "title": "Tides II",
                                                               "library": main, "status": "missing"})
    assert edited.status_code == 204 and edited.headers["HX-Redirect"]
    with db.connection_context():
        assert (Item.get_by_id(item.id).title, Item.get_by_id(item.id).status) == ("Tides II",
                                                                                    "missing")


def test_admin_loan_policies_add_edit_delete_but_keep_the_default(login_as, app):
    client = login_as(ADMIN)
    page = client.get("/admin/loan-policies").get_data(as_text=True)
    assert "Default" in page
    form = {"user_group": "Faculty", "library": "", "loan_days": "90", "max_renewals": "5",
            "max_loans": "50"}
    assert client.post("/admin/loan-policies", data=form).status_code == 303
    assert client.post("/admin/loan-policies", data=form).status_code == 422  # a second one
    with db.connection_context():
        faculty = LoanPolicy.get(LoanPolicy.user_group == "Faculty")
        default = LoanPolicy.get(LoanPolicy.user_group == "")
    saved = client.post(f"/admin/loan-policies/{faculty.id}", data=dict(form, loan_days="60"))
    assert saved.status_code == 303
    refused = client.post(f"/admin/loan-policies/{default.id}/delete")
    assert refused.status_code == 422
    assert client.post(f"/admin/loan-policies/{faculty.id}/delete").status_code == 303
    with db.connection_context():
        assert list(LoanPolicy.select().where(LoanPolicy.user_group == "Faculty")) == []


def test_circulation_posts_need_the_csrf_token(csrf_app, shelf):
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    client.post("/sign-in", data={"identifier": ROLE_LOGINS[OPERATOR], "password": PASSWORD,
                                  "csrf_token": token})
    target = f"/desk/patrons/{shelf['external']}/loans"
    assert client.post(target, data={"barcode": "IT1"}).status_code == 400
    with db.connection_context():
        assert not Loan.select().exists()
    page = client.get(f"/desk/?patron={shelf['external']}").get_data(as_text=True)
    sent = client.post(target, data={"barcode": "IT1", "csrf_token": csrf_token_from(page)})
    assert sent.status_code == 303
