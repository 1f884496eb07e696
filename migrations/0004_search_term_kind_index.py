"""Index search terms by term, kind and user.

The desk's find field asks "is this exactly an identifier?" and then "whose names start
with this?": with the kind and the user in the index, both are answered from the index
alone, even for a word thousands of patrons share (a common last name).
"""


def up(migrator, db):
    migrator.migrate(migrator.add_index("search_term", ("term", "kind", "user_id"), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("search_term", "search_term_term_kind_user_id"))
