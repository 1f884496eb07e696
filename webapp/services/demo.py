"""Demo and benchmark data: libraries, staff, internal and external patrons, loans."""

import datetime
import random

from unidecode import unidecode

from webapp.db import db
from webapp.models import Address, Email, Identifier, Library, Phone, User
from webapp.services import clock
from webapp.services.circulation import demo as circulation_demo
from webapp.services.clock import now
from webapp.services.staff import create_staff, role_expiry_for_semester
from webapp.services.users import record_changes

DEMO_STAFF = (
    ("admin", "General System Administrator", "Ada", "Admin"),
    ("usermanager", "User Manager", "Uma", "Manager"),
    ("desk", "Circulation Desk Operator", "Dev", "Desk"),
    ("student", "Circulation Desk Operator – Limited", "Sam", "Student"),
)
# The Science Library (SCI) is the second library the circulation demo uses too.
DEMO_LIBRARIES = (("MAIN", "Main Library"), ("SCI", "Science Library"), ("LAW", "Law Library"))
FIRST = ("Amina", "Björn", "Chloé", "Dmitri", "Elif", "Farid", "Grace", "Hiroshi", "Inés",
         "Jonas", "Kaito", "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rosa",
         "Søren", "Tomás", "Uma", "Valentina", "Wei", "Ximena", "Yusuf", "Zoë")
LAST = ("Abebe", "Bauer", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Hansen",
        "Ivanova", "Jensen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrov",
        "Quinn", "Rossi", "Schmidt", "Tanaka", "Ueda", "Vargas", "Weber", "Xu", "Yilmaz",
        "Zhang", "Smith", "Smithson", "Nguyen", "Okafor")
GROUPS = ("Undergraduate", "Graduate", "Faculty", "Staff", "Community")


def patron_rows(count, seed=2026, start=0):
    """Yield COUNT synthetic patrons as (user fields, identifiers, email, phone, address)."""
    rng = random.Random(seed + start)
    today = clock.today()
    for n in range(start, start + count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        external = n % 3 != 0
        expiry = today + datetime.timedelta(days=rng.randint(-60, 700))
        user = {
            "primary_id": f"P{n:07d}",
            "first_name": first,
            "middle_name": rng.choice(("", "", "Marie", "James", "Ann")),
            "last_name": last,
            "user_group": rng.choice(GROUPS),
            "record_type": "public",
            "account_type": "external" if external else "internal",
            "source": "SIS" if external else None,
            "external_id": f"S{n:07d}" if external else None,
            "status": "active" if rng.random() > 0.05 else "inactive",
            "expiry_date": expiry,
            "birth_date": datetime.date(1960 + rng.randint(0, 45), rng.randint(1, 12),
                                        rng.randint(1, 28)),
            "campus": rng.choice(("Main", "North", "")),
            "last_synced_at": now() if external else None,
        }
        segment = "external" if external else "internal"
        identifiers = [
            {"id_type": "barcode", "value": f"B{n:08d}", "segment": segment},
            {"id_type": "university_id", "value": f"U{n:07d}", "segment": segment},
        ]
        local = unidecode(f"{first}.{last}").lower().replace("'", "").replace(" ", "")
        email = {"address": f"{local}{n}@example.edu", "email_type": "school",
                 "preferred": True, "segment": segment}
        phone = {"number": f"+1 555 {n % 1000:03d} {n % 10000:04d}", "phone_type": "mobile",
                 "preferred": True, "segment": segment}
        address = {"line1": f"{n % 900 + 1} Library Lane", "city": "Springfield",
                   "region": "IL", "postal_code": f"{62700 + n % 99}", "country": "USA",
                   "address_type": "home", "preferred": True, "segment": segment}
        yield user, identifiers, email, phone, address


def bulk_load_patrons(count, seed=2026, chunk=2000, progress=None):
    """Insert COUNT synthetic patrons in chunks; return their ids."""
    ids = []
    done = 0
    while done < count:
        size = min(chunk, count - done)
        rows = list(patron_rows(size, seed, start=done))
        with db.atomic():
            stamp = now()
            users = [dict(r[0], created_at=stamp, modified_at=stamp) for r in rows]
            User.insert_many(users).execute()
            by_id = dict(
                User.select(User.primary_id, User.id)
                .where(User.primary_id.in_([u["primary_id"] for u in users]))
                .tuples()
            )
            chunk_ids = [by_id[u["primary_id"]] for u in users]
            Identifier.insert_many(
                [dict(i, user=uid) for uid, r in zip(chunk_ids, rows, strict=True) for i in r[1]]
            ).execute()
            for model, index in ((Email, 2), (Phone, 3), (Address, 4)):
                model.insert_many(
                    [dict(r[index], user=uid) for uid, r in zip(chunk_ids, rows, strict=True)]
                ).execute()
            # Loaded, not changed: no history and version 1, but the write path indexes them.
            record_changes({}, actor="system", via="system", at=stamp, reindex=chunk_ids)
        ids.extend(chunk_ids)
        done += size
        if progress:
            progress(done)
    return ids


def load_demo(patrons=60, password="desk-demo-2026", seed=2026):
    """Load the demo libraries, staff, patrons and loans; return [(sign-in name, role)]."""
    with db.atomic():
        for code, name in DEMO_LIBRARIES:
            Library.get_or_create(code=code, defaults={"name": name})
        if not Library.select().where(Library.is_main).exists():
            Library.update(is_main=True).where(Library.code == "MAIN").execute()
        science = Library.get(Library.code == "SCI")
    staff = []
    for identifier, role, first, last in DEMO_STAFF:
        # The student worker works at the Science Library until the semester ends.
        student = identifier == "student"
        create_staff(identifier, password, role, first_name=first, last_name=last,
                     expires_on=role_expiry_for_semester() if student else None,
                     libraries=[science.id] if student else ())
        staff.append((identifier, role))
    ids = bulk_load_patrons(patrons, seed=seed)
    staff += circulation_demo.load_demo_circulation(ids, password, seed=seed)
    return staff
