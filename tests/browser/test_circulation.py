"""Circulation at the desk in a real browser: scan, the expiry alert, extend, return, lost, re-link."""

import datetime

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, browser_sign_in
from webapp.db import db
from webapp.models import Identifier, Item, Library, User
from webapp.services import search

EXPIRES = datetime.date.today() + datetime.timedelta(days=7)
BARCODES = ("3900001", "3900002", "3900003")


@pytest.fixture
def desk_patron(app):
    """A patron whose account expires in a week, and three items at the main library."""
    with db.connection_context():
        patron = User.create(primary_id="P-WEEK", first_name="Wanda", last_name="Weekes",
                             user_group="Graduate", expiry_date=EXPIRES)
        Identifier.create(user=patron, id_type="barcode", value="B7777")
        search.index_users([patron.id])
        main = Library.get(Library.code == "MAIN")
        for n, barcode in enumerate(BARCODES, start=1):
            Item.create(barcode=barcode, barcode_key=barcode, title=f"Field Guide {n}",
                        library=main)
    return patron.id


def open_patron(page):
    """Fulfillment › Manage Patron Services, then find the patron by card barcode."""
    page.locator("summary", has_text="Fulfillment").click()
    page.get_by_role("link", name="Manage Patron Services").click()
    find = page.get_by_label("Find a patron")
    find.fill("B7777")
    find.press("Enter")
    expect(page.locator("#patron-panel").get_by_role("heading", name="Wanda Weekes")).to_be_visible()


def scan(page, barcode):
    box = page.get_by_label("Scan item")
    box.fill(barcode)
    box.press("Enter")
    expect(page.locator("#open-loans tbody tr").first).to_contain_text(barcode)
    expect(page.get_by_label("Scan item")).to_be_focused()
    expect(page.get_by_label("Scan item")).to_have_value("")


def test_desk_day_scan_extend_return_lost_relink(page, second_page, desk_patron):
    shortened = f"Due date shortened to the patron's expiry date, {EXPIRES.isoformat()}"
    browser_sign_in(page, "Circulation Desk Operator")
    open_patron(page)
    expect(page.get_by_label("Scan item")).to_be_focused()
    for barcode in BARCODES:
        scan(page, barcode)
        alert = page.locator("#shortened-alert")
        expect(alert).to_contain_text(shortened)
        expect(alert.get_by_role("button", name="Extend due date")).to_have_count(0)
    expect(page.locator("#open-loans tbody tr")).to_have_count(3)
    page.locator("#shortened-alert").get_by_role("button", name="Ok").click()
    expect(page.locator("#shortened-alert")).to_have_count(0)
    # Scanning an item already lent to this patron says so, and keeps the barcode to correct.
    box = page.get_by_label("Scan item")
    box.fill(BARCODES[0])
    box.press("Enter")
    expect(page.locator("#scan-item-error")).to_contain_text("already on loan to this patron")
    expect(page.get_by_label("Scan item")).to_have_value(BARCODES[0])
    assert axe_violations(page) == []

    # A Circulation Desk Manager extends the first loan past the expiry date.
    browser_sign_in(second_page, "Circulation Desk Manager")
    open_patron(second_page)
    first = second_page.locator("#open-loans tr", has_text=BARCODES[0])
    first.get_by_role("button", name="Extend due date").click()
    expect(second_page.locator("#desk-loans")).to_contain_text("extended to")
    expect(second_page.locator("#open-loans tr", has_text=BARCODES[0])).to_contain_text(
        "extended by")

    # Return two items on the Return items page, in a row.
    page.locator("summary", has_text="Fulfillment").click()
    page.get_by_role("link", name="Return items").click()
    for barcode in BARCODES[:2]:
        box = page.get_by_label("Scan item")
        box.fill(barcode)
        box.press("Enter")
        expect(page.locator("#returned-items tbody tr").first).to_contain_text(barcode)
        expect(page.get_by_label("Scan item")).to_be_focused()
    rows = page.locator("#returned-items tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Wanda Weekes")
    expect(rows.first).to_contain_text("on time")
    assert axe_violations(page) == []

    # Declare the third lost, then re-link it from Closed loans.
    page.goto(f"/desk/?patron={desk_patron}")
    page.locator("#open-loans tr", has_text=BARCODES[2]).get_by_role(
        "button", name="Declare lost").click()
    expect(page.locator("#desk-loans")).to_contain_text("declared lost")
    expect(page.locator("#open-loans")).to_have_count(0)
    page.get_by_role("link", name="Closed loans").click()
    lost = page.locator("#closed-loans tr", has_text=BARCODES[2])
    expect(lost).to_contain_text("Lost")
    lost.get_by_role("button", name="Re-link to patron").click()
    expect(page.locator("#desk-loans")).to_contain_text("no notice was sent")
    expect(page.locator("#open-loans tr", has_text=BARCODES[2])).to_be_visible()
