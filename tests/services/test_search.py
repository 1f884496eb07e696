"""The user search service: each match kind, ranking, filters, paging, odd input, the index."""

import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from peewee import IntegerField
from playhouse.migrations import Runner

from webapp.db import MIGRATIONS_DIR, db, is_sqlite
from webapp.models import Email, Identifier, RoleAssignment, User
from webapp.services import clock, search
from webapp.services.permissions import SYSTEM
from webapp.services.search import find_by_identifier, fold, index_users, name_words, search_users
from webapp.services.users import SegmentChange, save_user


def make_user(primary_id, first, last, *, identifiers=(), emails=(), index=True, model=User, **fields):
    """Create a patron with identifiers and emails; index it as the services do."""
    with db.atomic():
        user = model.create(primary_id=primary_id, first_name=first, last_name=last,
                           user_group=fields.pop("user_group", "Undergraduate"), **fields)
        for value in identifiers:
            Identifier.create(user=user, id_type="barcode", value=value)
        for address in emails:
            Email.create(user=user, address=address)
        if index:
            index_users([user.id])
    return user


def found(text, **kw):
    """Return the primary ids TEXT finds, in ranked order."""
    return [user.primary_id for user, _tier in search_users(text, page_size=100, **kw).users]


@pytest.fixture
def patrons(dbc):
    make_user("P1", "Amina", "Abebe", middle_name="Grace", identifiers=["B0001"],
              emails=["amina.abebe@example.edu"])
    make_user("P2", "Jonas", "Smith", identifiers=["B0002"], emails=["jsmith@example.edu"])
    make_user("P3", "Smithy", "Jones", identifiers=["B0003"])
    make_user("P4", "Chloé", "Müller", pref_first_name="Clo", identifiers=["B0004"])
    make_user("P5", "Rosa", "Smithson", status="inactive", account_type="external",
              source="SIS", external_id="S5")
    make_user("P6", "Sean", "O'Brien", pref_last_name="Bryant")
    make_user("P7", "Ana", "Smith")


@pytest.mark.parametrize("text, expected", [
    ("Amina", ["P1"]),  # first name
    ("gra", ["P1"]),  # middle name prefix
    ("abe", ["P1"]),  # last name prefix
    ("clo", ["P4"]),  # preferred first name
    ("bryant", ["P6"]),  # preferred last name
    ("o'brien", ["P6"]),  # legal last name, with its apostrophe
    ("MUL", ["P4"]),  # case
    ("müller", ["P4"]),  # accents in the query
    ("chloe", ["P4"]),  # accents in the record
])
def test_names_match_by_word_prefix(patrons, text, expected):
    assert found(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("p4", ["P4"]),  # primary identifier, another case
    ("b000", ["P1", "P2", "P3", "P4"]),  # identifier prefix
    ("B0003", ["P3"]),  # a whole identifier
    ("jsmi", ["P2"]),  # email prefix, not a name
    ("AMINA.ABEBE@EXAMPLE.EDU", ["P1"]),  # whole email, any case
    ("amina.ab", ["P1"]),  # email prefix with punctuation
])
def test_identifiers_and_emails_match_by_prefix(patrons, text, expected):
    assert sorted(found(text)) == sorted(expected)


def test_every_word_must_match(patrons):
    assert found("smith jonas") == ["P2"]
    assert found("jonas smith") == ["P2"]
    assert found("smith zzz") == []
    assert found("a smith") == ["P7"]  # a one-letter word narrows a longer one


def test_ranking_exact_identifier_then_last_name_then_rest(dbc, patrons):
    make_user("SMITH", "Zed", "Zulu")  # an identifier that is exactly the query
    results = search_users("smith", page_size=100)
    ranked = [(user.primary_id, tier) for user, tier in results.users]
    # Exact identifier; last names Smith (Ana before Jonas), Smithson; then first name Smithy.
    assert ranked == [("SMITH", 0), ("P7", 1), ("P2", 1), ("P5", 1), ("P3", 2)]


def test_equal_names_keep_a_stable_order(dbc):
    ids = [make_user(f"T{n}", "Lee", "Same").id for n in range(3)]
    assert [u.id for u, _ in search_users("same").users] == sorted(ids)
    assert [u.id for u, _ in search_users("same lee").users] == sorted(ids)


@pytest.mark.parametrize("filters, expected", [
    ({"status": "inactive"}, ["P5"]),
    ({"status": "active"}, ["P7", "P2", "P3"]),
    ({"account_type": "external"}, ["P5"]),
    ({"account_type": "internal", "record_type": "public"}, ["P7", "P2", "P3"]),
    ({"record_type": "staff"}, []),
    ({"status": "bogus"}, ["P7", "P2", "P5", "P3"]),  # an unknown value filters nothing
])
def test_filters(patrons, filters, expected):
    assert found("smit", filters=filters) == expected


def test_the_role_filter_finds_those_who_hold_the_role_today(dbc):
    today = clock.today()
    day = datetime.timedelta(days=1)
    holders = {"NOW": (None, None), "ENDS": (None, today), "BEGAN": (today - day, today + day),
               "ENDED": (None, today - day), "LATER": (today + day, None)}
    for primary_id, (starts_on, expires_on) in holders.items():
        user = make_user(primary_id, "Role", "Holder", record_type="staff")
        RoleAssignment.create(user=user, role="User Manager", starts_on=starts_on,
                              expires_on=expires_on)
    make_user("OTHER", "Role", "Holder", record_type="staff")
    assert sorted(found("holder", filters={"role": "User Manager"})) == ["BEGAN", "ENDS", "NOW"]


def test_filters_follow_status_changes_made_anywhere(patrons):
    # No reindex call here: the database keeps the filter flags current.
    User.update(status="inactive").where(User.primary_id == "P7").execute()
    assert found("smith", filters={"status": "inactive"}) == ["P7", "P5"]
    assert "P7" not in found("smith", filters={"status": "active"})


def test_paging_and_total(dbc):
    for n in range(7):
        make_user(f"G{n}", f"Gil{n}", "Page")
    first = search_users("page", page=1, page_size=3)
    last = search_users("page", page=3, page_size=3)
    assert (first.total, first.pages, len(first.users)) == (7, 3, 3)
    assert [u.primary_id for u, _ in last.users] == ["G6"]
    every = [u.primary_id for p in (1, 2, 3) for u, _ in search_users("page", page=p, page_size=3).users]
    assert every == [f"G{n}" for n in range(7)]


def test_paging_across_the_last_name_tier(dbc):
    for n in range(3):
        make_user(f"L{n}", "Ann", f"Tierney{n}")
        make_user(f"F{n}", f"Tiernan{n}", "Zed")
    pages = [[u.primary_id for u, _ in search_users("tier", page=p, page_size=2).users]
             for p in (1, 2, 3, 4)]
    assert pages == [["L0", "L1"], ["L2", "F0"], ["F1", "F2"], []]


def test_words_sharing_their_first_letters_find_a_user_once_and_rank_by_the_word(dbc):
    # "Maria Marquez" (X1) and "Marlon Mar Ames" (X2) each keep both "mar" words in one index row.
    make_user("X1", "Maria", "Marquez")
    make_user("X2", "Marlon", "Ames", middle_name="Mar")
    assert found("mar") == ["X1", "X2"]  # Marquez, a last name, before Marlon
    assert search_users("mar").total == 2
    assert found("marq") == ["X1"]
    assert found("mari") == ["X1"]
    assert found("marl") == ["X2"]
    assert found("ma") == ["X1", "X2"]
    assert [tier for _u, tier in search_users("marq").users] == [1]  # the last name
    assert [tier for _u, tier in search_users("maria").users] == [2]  # a first name
    assert found("marquez maria") == found("maria marq") == ["X1"]
    assert found("mar m") == ["X1", "X2"] and found("marl m") == ["X2"]


def test_paging_when_names_and_identifiers_both_match(dbc):
    for n in range(4):
        make_user(f"X{n}", "Kim", f"Xavier{n}")
    make_user("XA-9", "Bo", "Other")  # found by its identifier only
    pages = [[u.primary_id for u, _ in search_users("xa", page=p, page_size=2).users]
             for p in (1, 2, 3)]
    assert search_users("xa", page_size=2).total == 5
    assert sum(pages, []) == ["X0", "X1", "X2", "X3", "XA-9"]


@pytest.mark.parametrize("text", ["%", "%%", "_", "__", "*", '"', "'", "-", "--", "NEAR",
                                  "a NEAR b", '"smith"', "smith*", "-smith", "s%", "%s%",
                                  "\\", "\x00", "  ", "'; DROP TABLE user; --", "é", "@", ".."])
def test_special_characters_never_fail_nor_match_everything(patrons, text):
    results = search_users(text)
    assert results.total < 7
    assert set(found(text)) <= {"P2", "P3", "P5", "P7"}  # only what "smith" could give


def test_wildcards_are_plain_characters(patrons):
    assert found("%mith") == []
    assert found("sm_th") == []
    assert found("b000_") == []
    assert found("b00%") == []
    assert found('"smith"') == ["P7", "P2", "P5", "P3"]  # quotes are not part of any word


def test_one_letter_asks_for_more(patrons):
    results = search_users("s")
    assert results.too_short and results.users == [] and results.total == 0
    assert search_users("").too_short is False


def test_very_long_query(patrons):
    assert found("smith jonas " * 200) == ["P2"]
    assert found("x" * 5000) == []
    assert found("s" * 100 + " jonas") == []


def test_many_words_are_all_required(dbc):
    make_user("W1", "Ann Bea Cid Dee Eve", "Fay")
    make_user("W2", "Ann Bea Cid Dee Eve", "Gus")
    assert found("ann bea cid dee eve fay") == ["W1"]
    assert found("ann bea cid dee eve") == ["W1", "W2"]


def test_identifier_prefix_matching_too_many_is_refused(patrons, monkeypatch):
    monkeypatch.setattr(search, "MAX_TERM_MATCHES", 3)
    results = search_users("b000")
    assert results.too_many and results.users == []
    assert found("b0001") == ["P1"]


def test_find_by_identifier_exact_any_case(patrons):
    assert find_by_identifier("B0002").primary_id == "P2"
    assert find_by_identifier("b0002").primary_id == "P2"
    assert find_by_identifier("p6").primary_id == "P6"
    assert find_by_identifier("B000") is None
    assert find_by_identifier("  ") is None


def test_index_follows_saves(patrons):
    user = User.get(User.primary_id == "P3")
    save_user(user.id, version=user.version, actor=SYSTEM, fields={"first_name": "Walter"},
              changes=[SegmentChange("emails", "add", {"address": "w.jones@example.edu"})])
    assert found("smithy") == []
    assert found("walt") == ["P3"]
    assert found("w.jones@") == ["P3"]


def test_deleting_a_user_removes_its_index_rows(patrons):
    User.delete().where(User.primary_id == "P7").execute()
    assert found("smith") == ["P2", "P5", "P3"]
    assert db.execute_sql("SELECT count(*) FROM search_entry WHERE user_id NOT IN "
                          '(SELECT id FROM "user")').fetchone()[0] == 0


def test_unchanged_reindex_writes_nothing(patrons):
    # SQLite counts the rows a connection changed; PostgreSQL stamps each row version
    # with the transaction that wrote it (xmin), so a rewritten row shows a new one.
    stamp = "" if is_sqlite() else "xmin::text, "
    rows = f"SELECT {stamp}* FROM search_entry ORDER BY 1, 2, 3, 4"
    before = db.execute_sql(rows).fetchall()
    changes = db.connection().total_changes if is_sqlite() else None
    index_users([u.id for u in User.select(User.id)])
    assert (db.connection().total_changes if is_sqlite() else None) == changes
    assert db.execute_sql(rows).fetchall() == before


class UserBefore0006(User):
    """The user table as migrations 0001 to 0005 leave it: with its session version column."""

    session_version = IntegerField(default=1)

    class Meta:
        table_name = "user"


def test_migration_indexes_existing_users(tmp_path):
    from webapp import create_app

    create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite'}",
                "SECRET_KEY": "test"}, instance_path=tmp_path / "instance")
    with db.connection_context():
        Runner(db.obj, str(MIGRATIONS_DIR)).up(target="0001_initial")
        make_user("OLD1", "Olga", "Before", identifiers=["OB-1"], emails=["olga@example.edu"],
                  index=False, model=UserBefore0006)
        Runner(db.obj, str(MIGRATIONS_DIR)).up()
        assert found("olg") == ["OLD1"]
        assert found("ob-") == ["OLD1"]
        assert found("before", filters={"status": "active"}) == ["OLD1"]


def test_migration_0012_rewrites_name_rows_as_the_indexer_writes_them(tmp_path):
    from webapp import create_app

    create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite'}",
                "SECRET_KEY": "test"}, instance_path=tmp_path / "instance")
    rows = "SELECT * FROM search_entry ORDER BY 1, 2, 3, 4"
    with db.connection_context():
        runner = Runner(db.obj, str(MIGRATIONS_DIR))
        runner.up(target="0001_initial")
        user = make_user("OLD2", "Zoë", "Smith Smithson", pref_first_name="Zo", status="inactive",
                         emails=["zsmith@example.edu"], index=False, model=UserBefore0006)
        # Indexed by migration 0002: a row for every prefix of every word.
        runner.up(target="0011_config_changes")
        before = db.execute_sql(rows).fetchall()
        assert {"z", "zsmi", "smithso"} <= {term for kind, term, *_ in before if kind == 0}
        runner.up()
        migrated = db.execute_sql(rows).fetchall()
        assert {term for kind, term, *_ in migrated if kind == 0} == {"zo", "sm", "zs"}
        index_users([user.id])
        assert db.execute_sql(rows).fetchall() == migrated
        assert found("smithso zo", filters={"status": "inactive"}) == ["OLD2"]
        # Down again: every prefix is back, as migration 0002 wrote them.
        runner.down(target="0011_config_changes")
        assert db.execute_sql(rows).fetchall() == before


def _entries_of(user_id):
    return db.execute_sql("SELECT count(*) FROM search_entry WHERE user_id = " + db.param,
                          [user_id]).fetchone()[0]


def test_a_deleted_users_search_entries_go_with_it(dbc):
    kept = make_user("KEEP1", "Kim", "Kept", identifiers=["KK-1"], emails=["kim@example.edu"])
    gone = make_user("GONE1", "Gus", "Gone", identifiers=["GG-1"], emails=["gus@example.edu"])
    assert _entries_of(gone.id) >= 4
    with db.atomic():
        for model in (Email, Identifier):
            model.delete().where(model.user == gone.id).execute()
        User.delete().where(User.id == gone.id).execute()
    assert _entries_of(gone.id) == 0
    assert found("gone") == [] and found("gg-1") == []
    assert found("kept") == ["KEEP1"] and _entries_of(kept.id) >= 4


def test_migration_0013_keeps_every_row_and_moves_the_cascade_to_a_trigger(tmp_path):
    from webapp import create_app

    create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite'}",
                "SECRET_KEY": "test"}, instance_path=tmp_path / "instance")
    rows = "SELECT * FROM search_entry ORDER BY 1, 2, 3, 4"
    with db.connection_context():
        runner = Runner(db.obj, str(MIGRATIONS_DIR))
        runner.up(target="0012_search_entry_words")
        zoe = make_user("OLD3", "Zoë", "Smith", emails=["zs@example.edu"], identifiers=["Z-3"])
        make_user("OLD4", "Ann", "Other")
        before = db.execute_sql(rows).fetchall()
        assert db.execute_sql("PRAGMA foreign_key_list(search_entry)").fetchall()
        runner.up()
        assert db.execute_sql(rows).fetchall() == before
        assert db.execute_sql("PRAGMA foreign_key_list(search_entry)").fetchall() == []
        # The filter flags still follow the user (its trigger was made again).
        with db.atomic():
            User.update(status="inactive").where(User.id == zoe.id).execute()
        assert found("smith", filters={"status": "inactive"}) == ["OLD3"]
        runner.down(target="0013_search_entry_derived")
        assert db.execute_sql("PRAGMA foreign_key_list(search_entry)").fetchall()
        assert len(db.execute_sql(rows).fetchall()) == len(before)
        runner.up()
        with db.atomic():
            Email.delete().where(Email.user == zoe.id).execute()
            Identifier.delete().where(Identifier.user == zoe.id).execute()
            User.delete().where(User.id == zoe.id).execute()
        assert _entries_of(zoe.id) == 0 and found("other") == ["OLD4"]


# The property: whatever is typed, the search never fails and finds exactly what a plain
# scan over every user finds.

POPULATION = [
    ("Q1", "Ana María", "de la Cruz", "", ["AB-12/x"], ["ana.cruz@example.edu"]),
    ("Q2", "Zoë", "O'Neil", "Zo", ["ab-13"], ["zoe_o@example.org"]),
    ("Q3", "Søren", "Kierkegaard", "", ["KK%1"], ["s.k@example.com", "soren@x.dk"]),
    ("Q4", "Li", "Xu", "", ["L_X"], []),
    ("Q5", "Anna", "Annaberg", "Annie", ["\"Q\"*5"], ["anna+1@example.edu"]),
    ("Q6", "José", "Núñez-García", "", ["NEAR-1"], ["jose@example.edu"]),
]


def plain_scan(text):
    """Return {primary id: (tier, sort key)} of what a plain loop over POPULATION finds."""
    term = fold(text)
    words = set(name_words(text))
    hits = {}
    for primary_id, first, last, pref_first, identifiers, emails in POPULATION:
        user_words = set(name_words(f"{first} {last} {pref_first}"))
        user_words |= {search.email_word(e) for e in emails} - {""}
        by_words = bool(words) and max(map(len, words)) >= 2 and all(
            any(u.startswith(w) for u in user_words) for w in words)
        values = [fold(v) for v in (primary_id, *identifiers, *emails)]
        by_term = len(term) >= 2 and any(v.startswith(term) for v in values)
        if by_words or by_term:
            if term in [fold(v) for v in (primary_id, *identifiers)]:
                tier = 0
            elif by_words and any(u.startswith(w) for w in words for u in name_words(last)):
                tier = 1
            else:
                tier = 2
            hits[primary_id] = (tier, f"{fold(last)}\x1f{fold(pref_first or first)}")
    return hits


@pytest.fixture
def population(dbc):
    for primary_id, first, last, pref_first, identifiers, emails in POPULATION:
        make_user(primary_id, first, last, pref_first_name=pref_first, identifiers=identifiers,
                  emails=emails)


FRAGMENTS = ["ana", "Ana M", "de la", "cruz", "o'n", "zoe", "Zo", "sø", "kier", "li xu", "ab-1",
             "AB-12/", "kk%", "l_x", '"q"', "anna+", "annab", "núñ", "garcia", "near", "jose@",
             "s.k@", "@example", "x", "an an", "q5", "-", "%", "*"]
queries = st.one_of(
    st.text(max_size=40),
    st.sampled_from(FRAGMENTS),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4).map(" ".join),
    st.builds(lambda a, b: a + b, st.sampled_from(FRAGMENTS), st.text(max_size=5)),
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=queries)
# A control character between letters: the folded text starts an email, the words do not.
@example(text="SO\x1fR")
def test_search_equals_a_plain_scan(population, text):
    # The staff members every test database holds are left out by the filter.
    results = search_users(text, {"record_type": "public"}, page_size=100)
    got = [user.primary_id for user, _tier in results.users]
    expected = plain_scan(text)
    assert len(got) == len(set(got)) == results.total
    assert set(got) <= set(expected)
    assert set(got) == set(expected)
    ids = {u.primary_id: u.id for u in User.select(User.primary_id, User.id)}
    assert got == sorted(expected, key=lambda p: (*expected[p], ids[p]))
