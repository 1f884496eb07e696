"""Items: find, add, edit, and import a CSV of barcode,title,author,call_number,library."""

import csv
import dataclasses
import io

from peewee import chunked

from webapp.db import db
from webapp.models import Item, Library, Loan
from webapp.services import clock, config_changes
from webapp.services.errors import DomainError, NotFound, ValidationError
from webapp.services.fields import as_id
from webapp.services.permissions import require

CSV_COLUMNS = ("barcode", "title", "author", "call_number", "library")
LENGTHS = {"barcode": 50, "title": 300, "author": 200, "call_number": 100}
LABELS = {"barcode": "Barcode", "title": "Title", "author": "Author",
          "call_number": "Call number", "library": "Library", "status": "Status"}
# Statuses staff set by hand; "on loan" comes and goes with loans.
EDITABLE_STATUSES = ("available", "lost", "missing")
CHUNK = 500
SEARCH_LIMIT = 50


def barcode_key(barcode):
    """Return the folded form of BARCODE that makes barcodes unique whatever the case."""
    return (barcode or "").strip().lower()


def find_by_barcode(barcode):
    """Return the item with BARCODE (any case), or None."""
    key = barcode_key(barcode)
    return Item.get_or_none(Item.barcode_key == key) if key else None


def get_item(item_id):
    """Return the item ITEM_ID, or raise NotFound."""
    item = Item.get_or_none(Item.id == item_id)
    if item is None:
        raise NotFound(f"no item {item_id}")
    return item


def search_items(query, limit=SEARCH_LIMIT):
    """Return ([items], more): the item with barcode QUERY, else items whose title contains it."""
    query = (query or "").strip()
    if not query:
        return [], False
    item = find_by_barcode(query)
    if item is not None:
        return [item], False
    rows = list(Item.select(Item, Library).join(Library)
                .where(Item.title.contains(query)).order_by(Item.title, Item.id).limit(limit + 1))
    return rows[:limit], len(rows) > limit


def library_options():
    """Return (id, "name (code)") of every library, for the item and policy forms."""
    return [(str(lib.id), f"{lib.name} ({lib.code})")
            for lib in Library.select().order_by(Library.name)]


def libraries_by_code():
    """Return {code: library id} of every library."""
    return dict(Library.select(Library.code, Library.id).tuples())


def clean_item(values, codes=None):
    """Return the item columns from VALUES (library by id or by code), or raise ValidationError."""
    errors, clean = {}, {}
    for name, length in LENGTHS.items():
        text = str(values.get(name) or "").strip()
        if len(text) > length:
            errors[name] = f"{LABELS[name]}: at most {length} characters."
        clean[name] = text
    for name in ("barcode", "title"):
        if not clean[name] and name not in errors:
            errors[name] = f"{LABELS[name]} is required."
    library = str(values.get("library") or "").strip()
    if codes is not None:
        clean["library"] = codes.get(library)
    else:
        found = Library.get_or_none(Library.id == as_id(library)) if as_id(library) else None
        clean["library"] = found.id if found else None
    if clean["library"] is None:
        errors["library"] = (f"No library has the code {library!r}." if codes is not None and library
                             else "Choose a library.")
    if errors:
        raise ValidationError(errors)
    clean["barcode_key"] = barcode_key(clean["barcode"])
    return clean


def check_barcode_free(clean, item_id=None):
    """Raise ValidationError if another item has the barcode of CLEAN."""
    other = Item.get_or_none(Item.barcode_key == clean["barcode_key"])
    if other is not None and other.id != item_id:
        raise ValidationError({"barcode": "Another item has this barcode."})


def _described(values, codes):
    """Return {label: value} of an item's columns VALUES, its library by code, for the history."""
    texts = {LABELS[name]: values[name] for name in (*LENGTHS, "status") if values.get(name)}
    texts[LABELS["library"]] = codes.get(values["library"])
    return texts


def _columns(item):
    """Return the columns of ITEM that the history shows, its library by id."""
    return dict({name: getattr(item, name) for name in (*LENGTHS, "status")}, library=item.library_id)


def _changes(old, new, codes=None):
    """Return (label, old, new) from item columns OLD (empty for a new item) to NEW.

    CODES maps library ids to codes (all of them read when not given).
    """
    codes = codes or {id_: code for code, id_ in libraries_by_code().items()}
    before, after = (_described(old, codes) if old else {}), _described(new, codes)
    return [(label, before.get(label), after.get(label)) for label in {**before, **after}]


def add_item(actor, values):
    """Add an item from form VALUES; return it."""
    require(actor, "system.admin")
    clean = clean_item(values)
    with db.atomic():
        check_barcode_free(clean)
        item = Item.create(**clean, status="available")
        config_changes.record(actor, "item", item.barcode,
                              _changes({}, dict(clean, status=item.status)))
    return item


def edit_item(actor, item_id, values):
    """Change item ITEM_ID to form VALUES (status among EDITABLE_STATUSES); return it."""
    require(actor, "system.admin")
    clean = clean_item(values)
    status = values.get("status") or None
    with db.atomic():
        item = get_item(item_id)
        check_barcode_free(clean, item.id)
        if status is not None and status != item.status:
            if status not in EDITABLE_STATUSES:
                raise ValidationError({"status": "Choose available, lost or missing."})
            if Loan.select().where((Loan.item == item) & (Loan.status == "open")).exists():
                raise ValidationError({"status": "The item is on loan: return it first."})
            clean["status"] = status
        config_changes.record(actor, "item", clean["barcode"],
                              _changes(_columns(item), {"status": item.status, **clean}))
        for name, value in clean.items():
            setattr(item, name, value)
        item.modified_at = clock.now()
        item.save()
    return item


class ItemImportRejected(DomainError):
    """An items file was refused; ``errors`` lists (line, message), nothing was written."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} errors")
        self.errors = list(errors)


@dataclasses.dataclass
class ImportResult:
    """What an items import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def read_rows(data):
    """Return [(line, {column: value})] of the items CSV DATA, or raise ItemImportRejected."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise ItemImportRejected([(0, "The file is not UTF-8 text.")]) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise ItemImportRejected([(1, "The header must be " + ",".join(CSV_COLUMNS)
                                   + (f"; missing {', '.join(missing)}" if missing else "")
                                   + (f"; unknown {', '.join(unknown)}" if unknown else ""))])
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            rows.append((reader.line_num, None))
            continue
        rows.append((reader.line_num, dict(zip(header, cells, strict=True))))
    return rows


def checked_rows(rows):
    """Return [(line, clean columns)] of ROWS, or raise ItemImportRejected listing every bad line."""
    codes = libraries_by_code()
    errors, clean_rows, first_line = [], [], {}
    for line, values in rows:
        if values is None:
            errors.append((line, f"Expected {len(CSV_COLUMNS)} cells."))
            continue
        try:
            clean = clean_item(values, codes)
        except ValidationError as exc:
            errors.extend((line, message) for message in exc.errors.values())
            continue
        earlier = first_line.setdefault(clean["barcode_key"], line)
        if earlier != line:
            errors.append((line, f"Barcode {clean['barcode']} is on line {earlier} already."))
            continue
        clean_rows.append((line, clean))
    if errors:
        raise ItemImportRejected(errors)
    return clean_rows


def import_items(actor, data):
    """Create or update (by barcode) the items of the CSV DATA, all of them or none; return counts."""
    require(actor, "system.admin")
    rows = checked_rows(read_rows(data))
    result, entries = ImportResult(), []
    stamp, codes = clock.now(), {id_: code for code, id_ in libraries_by_code().items()}
    with db.atomic():
        for chunk in chunked([clean for _line, clean in rows], CHUNK):
            existing = {item.barcode_key: item for item in Item.select().where(
                Item.barcode_key.in_([c["barcode_key"] for c in chunk]))}
            new = [dict(c, created_at=stamp, modified_at=stamp)
                   for c in chunk if c["barcode_key"] not in existing]
            if new:
                Item.insert_many(new).execute()
            entries.extend((c["barcode"], _changes({}, dict(c, status="available"), codes))
                           for c in new)
            result.created += len(new)
            for clean in chunk:
                item = existing.get(clean["barcode_key"])
                if item is None:
                    continue
                changed = {k: v for k, v in clean.items() if getattr(item, k if k != "library"
                                                                        else "library_id") != v}
                if not changed:
                    result.unchanged += 1
                    continue
                Item.update(**changed, modified_at=stamp).where(Item.id == item.id).execute()
                entries.append((clean["barcode"], _changes(
                    _columns(item), dict(clean, status=item.status), codes)))
                result.updated += 1
        config_changes.record_many(actor, "item", entries)
    return result
