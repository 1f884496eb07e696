"""The circulation commands: items-import and anonymize-loans, and the demo's circulation."""

import datetime

from webapp.db import db
from webapp.models import Item, Library, Loan, LoanPolicy, User
from webapp.services import clock


def test_items_import_reports_counts_and_rejects_a_bad_file_whole(app, tmp_path):
    good = tmp_path / "items.csv"
    good.write_text("barcode,title,author,call_number,library\n"
                    "3901,Rivers of the North,Lund,551.4,MAIN\n")
    result = app.test_cli_runner().invoke(args=["items-import", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 0 unchanged" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("barcode,title,author,call_number,library\n"
                   "3902,New Book,,,MAIN\n3903,,,,MAIN\n")
    result = app.test_cli_runner().invoke(args=["items-import", str(bad)])
    assert result.exit_code == 1
    assert "line 3: Title is required." in result.output
    assert "nothing was changed" in result.output
    with db.connection_context():
        assert [i.barcode for i in Item.select()] == ["3901"]


def closed_loan(days_ago):
    """Create a returned loan closed DAYS_AGO; return its id."""
    with db.connection_context():
        user = User.create(primary_id=f"P{days_ago}", last_name="Reader", user_group="Graduate")
        library = Library.get(Library.code == "MAIN")
        item = Item.create(barcode=f"X{days_ago}", barcode_key=f"x{days_ago}", title="Maps",
                           library=library)
        closed = clock.now() - datetime.timedelta(days=days_ago)
        return Loan.create(user=user, item=item, title="Maps", item_barcode=item.barcode,
                           due_at=closed, status="returned", returned_at=closed,
                           closed_at=closed).id


def test_anonymize_loans_follows_the_setting_and_does_nothing_without_it(app):
    old, recent = closed_loan(400), closed_loan(10)
    result = app.test_cli_runner().invoke(args=["anonymize-loans"])
    assert result.exit_code == 0 and "nothing to do" in result.output
    app.config["ANONYMIZE_LOANS_AFTER_DAYS"] = 365
    result = app.test_cli_runner().invoke(args=["anonymize-loans"])
    assert result.exit_code == 0, result.output
    assert "anonymized 1 closed loans older than 365 days" in result.output
    with db.connection_context():
        assert Loan.get_by_id(old).user_id is None
        assert Loan.get_by_id(recent).user_id is not None


def test_demo_lends_items_of_two_libraries_consistently(app):
    result = app.test_cli_runner().invoke(args=["demo", "--patrons", "40"])
    assert result.exit_code == 0, result.output
    assert "deskmanager" in result.output
    with db.connection_context():
        assert Library.select().count() >= 2
        by_library = {lib.id: lib.items.count() for lib in Library.select()}
        assert sorted(by_library.values())[-2:] == [150, 150]
        assert LoanPolicy.select().where(LoanPolicy.user_group == "").exists()
        open_items = {loan.item_id for loan in Loan.select().where(Loan.status == "open")}
        assert open_items
        on_loan = {i.id for i in Item.select().where(Item.status == "on_loan")}
        assert open_items == on_loan
        lost = Loan.get(Loan.status == "lost")
        assert lost.item.status == "lost"
