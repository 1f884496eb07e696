"""Synchronize users in a real browser: upload, preview, confirm."""

from pathlib import Path

from tests.browser.conftest import browser_sign_in

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sis-users.csv"


def test_upload_preview_confirm(page):
    browser_sign_in(page, "User Administrator")
    page.locator("summary", has_text="Admin").click()
    page.get_by_role("link", name="Synchronize users").click()
    page.wait_for_url("**/admin/sync")

    page.get_by_label("File to load (CSV or JSON)").set_input_files(str(EXAMPLE))
    page.get_by_label("Source system").fill("SIS")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url("**/admin/sync/1")
    assert page.get_by_role("heading", name="Run 1: Preview: confirm to apply").is_visible()
    assert "Preview: 3 created, 0 updated" in page.locator(".notice").inner_text()
    assert page.get_by_text("Abebe, Amina (S9000001, line 2): created").is_visible()

    page.get_by_role("button", name="Confirm and apply").click()
    page.get_by_role("heading", name="Run 1: Applied").wait_for()
    assert page.get_by_role("button", name="Confirm and apply").count() == 0

    page.get_by_role("link", name="Abebe, Amina").first.click()
    page.wait_for_url("**/users/*")


def test_the_same_file_again_changes_nothing_and_a_bad_one_is_explained(page):
    browser_sign_in(page, "User Administrator")
    page.goto("/admin/sync")
    for data, name in ((EXAMPLE.read_bytes(), "sis.csv"), (EXAMPLE.read_bytes(), "sis.csv")):
        page.get_by_label("File to load (CSV or JSON)").set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": data})
        page.get_by_label("Source system").fill("SIS")
        page.get_by_role("button", name="Preview").click()
        page.get_by_role("button", name="Confirm and apply").click()
        page.get_by_role("heading", name="Applied").wait_for()
        page.goto("/admin/sync")
    newest = page.get_by_role("row").nth(1).locator("td").all_inner_texts()
    assert (newest[0], newest[5], newest[6:9]) == ("Run 2", "applied", ["0", "0", "3"])

    page.get_by_label("File to load (CSV or JSON)").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": b"external_id,shoe_size\nS1,9\n"})
    page.get_by_label("Source system").fill("SIS")
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="Rejected").wait_for()
    assert page.get_by_text("unknown columns: shoe_size").is_visible()
