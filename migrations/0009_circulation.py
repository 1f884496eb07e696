"""Add circulation: items, loan policies with a default, and loans that belong to items.

The loan table gains its item, library, status and the dates and names of each event;
its user becomes nullable so an anonymized loan keeps item and dates without the patron.
One item has at most one open loan: a partial unique index, so the database itself
refuses a second checkout even when two desks scan the same item at the same moment.
Loans made before this migration (demo rows) get an item each, at the first library.
"""

from peewee import (
    SQL,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
)

DEFAULT_POLICY = {"user_group": "", "library": None, "loan_days": 28, "max_renewals": 2,
                  "max_loans": 20}


def frozen_models(db):
    """Return the frozen Library, Item, LoanPolicy and Loan models of this migration."""

    class Library(Model):
        code = CharField(max_length=32, unique=True)

        class Meta:
            database = db
            table_name = "library"

    class Item(Model):
        barcode = CharField(max_length=50)
        barcode_key = CharField(max_length=50, unique=True)
        title = CharField(max_length=300, index=True)
        author = CharField(max_length=200, default="")
        call_number = CharField(max_length=100, default="")
        library = ForeignKeyField(Library, on_delete="RESTRICT")
        status = CharField(max_length=10, default="available")
        created_at = DateTimeField()
        modified_at = DateTimeField()

        class Meta:
            database = db
            table_name = "item"

    class LoanPolicy(Model):
        user_group = CharField(max_length=50, default="")
        library = ForeignKeyField(Library, null=True, on_delete="CASCADE")
        loan_days = IntegerField(default=28)
        max_renewals = IntegerField(default=2)
        max_loans = IntegerField(default=20)

        class Meta:
            database = db
            table_name = "loan_policy"

    class Loan(Model):
        item = ForeignKeyField(Item, null=True, on_delete="RESTRICT")
        item_barcode = CharField(max_length=50)
        title = CharField(max_length=300)
        returned_at = DateTimeField(null=True)
        status = CharField(max_length=10, default="open")
        closed_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "loan"

    return Library, Item, LoanPolicy, Loan


def loan_columns(Item, Library):
    """Return the columns this migration adds to loan, by name."""
    return {
        "item_id": ForeignKeyField(Item, null=True, on_delete="RESTRICT", field=Item.id),
        "library_id": ForeignKeyField(Library, null=True, on_delete="SET NULL", field=Library.id),
        "policy_due_at": DateTimeField(null=True),
        # Defaults in the schema too: code that inserts loans by hand still makes open loans.
        "status": CharField(max_length=10, default="open", constraints=[SQL("DEFAULT 'open'")]),
        "renewals": IntegerField(default=0, constraints=[SQL("DEFAULT 0")]),
        "loaned_by": CharField(max_length=100, default="system",
                               constraints=[SQL("DEFAULT 'system'")]),
        "extended_by": CharField(max_length=100, null=True),
        "extended_at": DateTimeField(null=True),
        "lost_at": DateTimeField(null=True),
        "relinked_by": CharField(max_length=100, null=True),
        "relinked_at": DateTimeField(null=True),
        "closed_at": DateTimeField(null=True),
        "closed_by": CharField(max_length=100, null=True),
        "anonymized_at": DateTimeField(null=True),
    }


def up(migrator, db):
    Library, Item, LoanPolicy, Loan = frozen_models(db)
    db.create_tables([Item, LoanPolicy])
    # One policy per user group and library; COALESCE so "any library" is unique too.
    db.execute_sql("CREATE UNIQUE INDEX loan_policy_scope"
                   " ON loan_policy (user_group, COALESCE(library_id, 0))")
    LoanPolicy.insert(**DEFAULT_POLICY).execute()

    migrator.migrate(migrator.drop_not_null("loan", "user_id"))
    migrator.migrate(*(migrator.add_column("loan", name, field)
                       for name, field in loan_columns(Item, Library).items()))
    (Loan.update(status="returned", closed_at=Loan.returned_at)
     .where(Loan.returned_at.is_null(False)).execute())
    db.execute_sql("UPDATE loan SET policy_due_at = due_at")
    adopt_unlinked_loans(Library, Item, Loan)

    db.execute_sql("CREATE UNIQUE INDEX loan_one_open_per_item ON loan (item_id)"
                   " WHERE status = 'open'")
    db.execute_sql("CREATE INDEX loan_user_status ON loan (user_id, status)")
    db.execute_sql("CREATE INDEX loan_status_closed ON loan (status, closed_at)")


def adopt_unlinked_loans(Library, Item, Loan):
    """Give each loan made before items existed an item of its barcode at the first library."""
    library = Library.select().order_by(Library.id).first()
    if library is None:
        return
    items = {}
    stamp = SQL("CURRENT_TIMESTAMP")
    for loan in Loan.select().where(Loan.item.is_null()).order_by(Loan.id):
        key = loan.item_barcode.lower()
        item = items.get(key)
        if item is None:
            item = items[key] = Item.create(barcode=loan.item_barcode, barcode_key=key,
                                            title=loan.title, library=library,
                                            created_at=stamp, modified_at=stamp)
        if loan.status == "open":
            if item.status == "on_loan":
                continue  # a second open loan of one barcode: left unlinked
            item.status = "on_loan"
            Item.update(status="on_loan").where(Item.id == item.id).execute()
        Loan.update(item=item.id).where(Loan.id == loan.id).execute()


def down(migrator, db):
    Library, Item, _policy, _loan = frozen_models(db)
    # user_id stays nullable: anonymized loans have no patron to give back.
    for index in ("loan_one_open_per_item", "loan_item_id", "loan_library_id",
                  "loan_user_status", "loan_status_closed"):
        db.execute_sql(f"DROP INDEX IF EXISTS {index}")
    migrator.migrate(*(migrator.drop_column("loan", name) for name in loan_columns(Item, Library)))
    db.execute_sql("DROP TABLE IF EXISTS loan_policy")
    db.execute_sql("DROP TABLE IF EXISTS item")
