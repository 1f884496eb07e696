"""Demo circulation: items at two libraries, a desk manager, and loans of every kind."""

import datetime
import random

from webapp.db import db
from webapp.models import Item, Library, Loan, LoanPolicy, User
from webapp.services import clock
from webapp.services.circulation.events import event_field, record_event
from webapp.services.circulation.policies import due_date, policy_for
from webapp.services.staff import create_staff

ITEMS_PER_LIBRARY = 150
MANAGER = ("deskmanager", "Circulation Desk Manager", "Mia", "Manager")
SUBJECTS = ("Cataloguing", "Birds", "Rivers", "Statistics", "Reading", "Archives", "Coastlines",
            "Mountains", "Typography", "Bridges", "Gardens", "Tides", "Maps", "Bees", "Glass")
FORMS = ("An Introduction to {}", "The Quiet History of {}", "Field Notes on {}",
         "Practical {}", "Letters about {}", "{} for Everyone", "A Short Guide to {}")
AUTHORS = ("Okafor, Ngozi", "Lindqvist, Per", "Moreau, Claire", "Tanaka, Ren", "Silva, Ana",
           "Brennan, Liam", "Haddad, Yara", "Kowalczyk, Ewa")


def demo_libraries():
    """Return the first two libraries, adding the Science Library when there is only one."""
    libraries = list(Library.select().order_by(Library.id).limit(2))
    if len(libraries) < 2:
        science, _created = Library.get_or_create(code="SCI",
                                                  defaults={"name": "Science Library"})
        libraries = list(Library.select().order_by(Library.id).limit(2))
        if science not in libraries:
            libraries.append(science)
    return libraries


def item_rows(libraries, rng, stamp):
    """Return the demo items as rows for insert_many, ITEMS_PER_LIBRARY at each library."""
    rows = []
    for n in range(ITEMS_PER_LIBRARY * len(libraries)):
        library = libraries[n % len(libraries)]
        barcode = f"39{library.id:02d}{n:06d}"
        subject = rng.choice(SUBJECTS)
        rows.append({"barcode": barcode, "barcode_key": barcode.lower(),
                     "title": rng.choice(FORMS).format(subject), "author": rng.choice(AUTHORS),
                     "call_number": f"{rng.randint(0, 999):03d}.{rng.randint(1, 99)} {subject[:3].upper()}",
                     "library": library.id, "status": "available",
                     "created_at": stamp, "modified_at": stamp})
    return rows


def loan_row(user, item, policy, loaned_at):
    """Return a demo loan row of ITEM to USER made at LOANED_AT under POLICY."""
    due = due_date(policy, loaned_at, user.expiry_date)
    return {"user": user.id, "item": item.id, "library": item.library_id, "title": item.title,
            "item_barcode": item.barcode, "loaned_at": loaned_at, "due_at": due.due_at,
            "policy_due_at": due.policy_due_at, "status": "open", "loaned_by": "system"}


def demo_loans(patron_ids, item_list, rng):
    """Return loan rows: open ones (some overdue), returned ones, and one lost, each item once."""
    users = list(User.select().where(User.id.in_(patron_ids) & (User.status == "active")
                                     & (User.expiry_date >= clock.today())))
    available = iter(item_list)
    loans = []
    for user in users:
        for _ in range(rng.randint(0, 3)):
            item = next(available, None)
            if item is None:
                return loans
            loaned = clock.now() - datetime.timedelta(days=rng.randint(1, 40))
            row = loan_row(user, item, policy_for(user.user_group, item.library_id), loaned)
            if rng.random() < 0.25:
                row.update(status="returned", returned_at=loaned + datetime.timedelta(days=7),
                           closed_at=loaned + datetime.timedelta(days=7), closed_by="system")
            loans.append(row)
    if loans:
        at = clock.now()
        loans[-1].update(status="lost", lost_at=at, closed_at=at, closed_by="system")
    return loans


def load_demo_circulation(patron_ids, password, seed=2026):
    """Load demo items, a default policy and loans for PATRON_IDS; return [(sign-in name, role)]."""
    rng = random.Random(seed)
    identifier, role, first, last = MANAGER
    if User.get_or_none(User.primary_id == identifier) is None:
        create_staff(identifier, password, role, first_name=first, last_name=last)
    with db.atomic():
        libraries = demo_libraries()
        if not LoanPolicy.select().exists():
            LoanPolicy.create(user_group="", library=None)
        LoanPolicy.get_or_create(user_group="Faculty", library=None,
                                 defaults={"loan_days": 90, "max_renewals": 5, "max_loans": 50})
        Item.insert_many(item_rows(libraries, rng, clock.now())).on_conflict_ignore().execute()
        free = list(Item.select().where((Item.status == "available")
                                        & ~Item.id.in_(Loan.select(Loan.item).where(
                                            Loan.item.is_null(False)))).order_by(Item.id))
        rng.shuffle(free)
        loans = demo_loans(patron_ids, free, rng)
        for row in loans:
            row["id"] = Loan.insert(row).execute()
            status = {"open": "on_loan", "lost": "lost"}.get(row["status"])
            if status:
                Item.update(status=status).where(Item.id == row["item"]).execute()
            record_event(row["user"], "system", "system", event_field(row["id"]),
                         f"checked out {row['item_barcode']} “{row['title']}” (demo)",
                         row["loaned_at"])
    return [(identifier, role)]
