"""Survey exports (CSV) in: map the columns, turn rows into neutral comments.

Common exports name their columns differently (Qualtrics, SurveyMonkey, Typeform, Delighted...); the first
column whose normalised header is one of the known names wins, and ``--map field=Column`` overrides.
A file without a text column is refused before anything is imported, naming the columns it has.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stories.models import IncomingComment, InvalidComment

KNOWN: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "comment",
        "comments",
        "feedback",
        "verbatim",
        "response",
        "review",
        "review text",
        "open feedback",
        "what could we do better",
        "any comments",  # Google Forms' usual last question
        "additional comments",
        "what is the main reason for your score",  # Typeform's and Delighted's NPS follow-up
        "tell us more",
        "message",
        "body",
    ),
    "nps": ("nps", "score", "nps score", "likelihood to recommend", "recommend score", "how likely"),
    "csat": ("csat", "rating", "csat score", "satisfaction", "stars", "star rating"),
    "date": (
        "date",
        "submitted at",
        "submitted",
        "created at",
        "created",
        "timestamp",
        "response date",
        "date submitted",
        "end date",
        "submit date (utc)",  # Typeform
        "submit date",
        "recordeddate",  # Qualtrics
        "enddate",
        "time",
    ),
    "id": ("id", "#", "response id", "responseid", "respondent id", "review id", "ticket id", "external id"),
    "segment": ("segment", "customer segment", "plan", "tier", "label", "customer type"),
    "channel": ("channel", "origin", "source channel"),
    "language": ("language", "lang", "locale"),
}
FIELDS = tuple(KNOWN)
# A header that is the question itself, as SurveyMonkey, Google Forms and Qualtrics name NPS columns:
# "How likely is it that you would recommend us to a friend or colleague?"
QUESTIONS: dict[str, re.Pattern[str]] = {"nps": re.compile(r"^how likely\b.*\brecommend")}
# The rows some exports put under the header: SurveyMonkey's second header row ("Response", "Open-Ended
# Response" under each question) and Qualtrics' question-text row followed by its ImportId row.
_SUBHEADER_TEXTS = frozenset({"response", "open-ended response", "open ended response"})
_IMPORT_ID = re.compile(r'^\{"ImportId":')


class CsvError(ValueError):
    """The file cannot be imported at all; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str


@dataclass
class CsvComments:
    """The rows as comments (lazily), plus the mapping used and the rows that could not be read."""

    mapping: dict[str, str]
    rows: list[tuple[int, IncomingComment]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def comments(self) -> Iterator[IncomingComment]:
        return (c for _, c in self.rows)


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-]+", " ", header.strip().strip("\ufeff").casefold()).strip(" ?:")


def parse_map(pairs: list[str] | None) -> dict[str, str]:
    """``["text=Comment", "nps=Score"]`` -> ``{"text": "Comment", "nps": "Score"}``."""
    result: dict[str, str] = {}
    for pair in pairs or []:
        for item in pair.split(","):
            name, sep, column = item.partition("=")
            name = name.strip().lower()
            if not sep or not column.strip():
                raise CsvError(f"--map {item!r} is not field=Column; e.g. --map text=Comment,nps=Score")
            if name not in FIELDS:
                raise CsvError(f"--map names unknown field {name!r}; fields are {', '.join(FIELDS)}")
            result[name] = column.strip()
    return result


def map_columns(headers: list[str], overrides: Mapping[str, str]) -> dict[str, str]:
    """Field -> column header; raises :class:`CsvError` when no text column is found."""
    by_norm = {_norm(h): h for h in headers}
    mapping: dict[str, str] = {}
    for name, column in overrides.items():
        if column not in headers and _norm(column) not in by_norm:
            raise CsvError(f"--map {name}={column}: no such column; the file has columns {headers}")
        mapping[name] = column if column in headers else by_norm[_norm(column)]
    for name, candidates in KNOWN.items():
        if name in mapping:
            continue
        for candidate in candidates:
            if candidate in by_norm and by_norm[candidate] not in mapping.values():
                mapping[name] = by_norm[candidate]
                break
        question = QUESTIONS.get(name)
        if name not in mapping and question is not None:
            found = [h for norm, h in by_norm.items() if question.search(norm) and h not in mapping.values()]
            if found:
                mapping[name] = found[0]
    if "text" not in mapping:
        raise CsvError(
            f"no text column found; the file has columns {headers}. Name the comment column with --map text=COLUMN"
        )
    return mapping


# Zip (.xlsx, .ods) and OLE2 (.xls) files: what "export" often gives, and no text encoding reads them.
_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

# The csv module refuses a cell over 128 KB and with it the whole file; a comment that long is cut by the core
# (stories/redacted_comment.py), not refused, so allow cells up to the size of a large export.
_MAX_CELL = 16 * 1024 * 1024


def read_csv(
    data: bytes,
    *,
    name: str,
    source: str = "csv",
    overrides: Mapping[str, str] | None = None,
    encoding: str = "utf-8-sig",
) -> CsvComments:
    """Parse a whole export. Raises :class:`CsvError` for a file that cannot be read at all."""
    if data.startswith(_WORKBOOKS):
        raise CsvError(
            f"{name}: is an Excel workbook, not CSV; save it as CSV (Excel: File > Save As > CSV UTF-8) or download "
            "the survey tool's CSV export, and import that"
        )
    if encoding == "utf-8-sig" and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode Text" and Qualtrics' TSV download: the byte order mark says so
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvError(
            f"{name}: line {line} is not valid {encoding} (byte {exc.start}); "
            "re-export as UTF-8 or pass --encoding, e.g. --encoding cp1252"
        ) from None
    except LookupError:
        raise CsvError(f"unknown encoding {encoding!r}; use e.g. utf-8, cp1252, latin-1") from None
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
        dialect.doublequote = True  # the sniffer guesses wrong when a quoted comment holds "" and a comma
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    if csv.field_size_limit() < _MAX_CELL:
        csv.field_size_limit(_MAX_CELL)
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    headers = [h for h in (reader.fieldnames or []) if h is not None]
    if not headers:
        raise CsvError(f"{name}: the file is empty; expected a header row and comments")
    try:
        mapping = map_columns(headers, overrides or {})
    except CsvError as exc:
        raise CsvError(f"{exc}{_qualtrics_questions(text, dialect=dialect, headers=headers)}") from None
    result = CsvComments(mapping=mapping)
    extra = [h for h in headers if h not in mapping.values()]
    try:
        import_ids, rows = _without_subheaders(reader, text_column=mapping["text"])
        zone = _export_zone(import_ids, date_column=mapping.get("date"), name=name)
        for line, row in rows:
            try:
                result.rows.append((line, _row_to_comment(row, mapping=mapping, extra=extra, source=source, zone=zone)))
            except InvalidComment as exc:
                result.errors.append(RowError(line, f"{mapping.get(exc.field, exc.field)}: {exc.message}"))
    except csv.Error as exc:
        raise CsvError(f"{name}: line {reader.line_num}: {exc}; nothing was imported") from None
    return result


Row = dict[str | None, object]


def _without_subheaders(
    reader: csv.DictReader[str], *, text_column: str
) -> tuple[tuple[int, Row] | None, Iterator[tuple[int, Row]]]:
    """Qualtrics' ImportId row ``(line, row)`` if there is one, and ``(line, row)`` for the data rows: an export's
    extra header rows (SurveyMonkey's second, Qualtrics' second and third) are questions and markers, not
    customers' comments, and would otherwise become stories."""
    rows = ((reader.line_num, row) for row in reader)
    head = [pair for _, pair in zip(range(2), rows, strict=False)]
    marked = [
        i for i, (_, row) in enumerate(head) if any(isinstance(v, str) and _IMPORT_ID.match(v) for v in row.values())
    ]
    import_ids = None
    if marked:  # Qualtrics: everything down to the ImportId row
        import_ids = head[marked[0]]
        head = head[marked[0] + 1 :]
    elif head and str(head[0][1].get(text_column) or "").strip().casefold() in _SUBHEADER_TEXTS:  # SurveyMonkey
        head = head[1:]
    return import_ids, itertools.chain(head, rows)


def _qualtrics_questions(text: str, *, dialect: type[csv.Dialect] | csv.Dialect, headers: list[str]) -> str:
    """For an export whose columns are Qualtrics' ids (Q1, Q2_TEXT...): the questions its second row names, and the
    column to map, so the admin need not open the file to find which Q is the comment. "" for other files."""
    rows = list(itertools.islice(csv.reader(io.StringIO(text, newline=""), dialect=dialect), 1, 3))
    if len(rows) < 2 or not any(_IMPORT_ID.match(cell) for cell in rows[1]):
        return ""
    questions = [(h, q.strip()) for h, q in zip(headers, rows[0], strict=False) if re.match(r"Q\d", h) and q.strip()]
    if not questions:
        return ""
    text_like = [h for h, q in questions if _norm(q) in KNOWN["text"]]
    listed = "; ".join(f"{h}: {q[:60]!r}" for h, q in questions[:8])
    return f". Qualtrics questions: {listed}; e.g. --map text={(text_like or [questions[-1][0]])[0]}"


def _export_zone(import_ids: tuple[int, Row] | None, *, date_column: str | None, name: str) -> tzinfo:
    """The timezone the export's dates are written in: Qualtrics writes them in the account's timezone and names it
    in the ImportId row (``{"ImportId":"startDate","timeZone":"America/Denver"}``), the date column's own cell
    first, else any cell that names one; UTC when none does (other tools write UTC, or say so in the date)."""
    if import_ids is None:
        return UTC
    line, row = import_ids
    cells = [row.get(date_column)] if date_column else []
    cells += [v for k, v in row.items() if k != date_column]
    for cell in cells:
        try:
            marker = json.loads(cell) if isinstance(cell, str) else None
        except ValueError:
            continue
        zone = marker.get("timeZone") if isinstance(marker, dict) else None
        if not isinstance(zone, str) or not zone.strip():
            continue
        try:
            return ZoneInfo(zone.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise CsvError(
                f"{name}: line {line}: the export names timezone {zone!r}, which is not an IANA timezone; set the "
                "survey account's timezone to one (e.g. America/Denver) and export again; nothing was imported"
            ) from None
    return UTC


def _row_to_comment(
    row: Mapping[str | None, object], *, mapping: Mapping[str, str], extra: list[str], source: str, zone: tzinfo
) -> IncomingComment:
    def get(name: str) -> str | None:
        column = mapping.get(name)
        value = row.get(column) if column else None
        if not isinstance(value, str):
            return None
        return value.strip() or None

    text = get("text")
    if not text:
        raise InvalidComment("text", "is empty")
    return IncomingComment(
        text=text,
        source=source,
        external_id=get("id"),
        original_at=parse_date(get("date"), zone=zone),
        segment=get("segment"),
        origin_channel=get("channel"),
        nps=_score(get("nps"), "nps", 0, 10),
        csat=_score(get("csat"), "csat", 1, 5),
        language=get("language"),
        fields={k: v.strip() for k in extra if isinstance(v := row.get(k), str) and v.strip()},
    )


def _score(value: str | None, name: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        raise InvalidComment(name, f"{value!r} is not a number") from None
    if not number.is_integer() or not low <= number <= high:
        raise InvalidComment(name, f"{value!r} is not a whole number from {low} to {high}")
    return int(number)


_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",  # SurveyMonkey: 12/01/2026 09:14:22 AM
    "%m/%d/%Y %H:%M:%S",  # Google Forms (US locale): 12/1/2026 9:14:22
    "%d.%m.%Y %H:%M:%S",
)


def parse_date(value: str | None, *, zone: tzinfo = UTC) -> datetime | None:
    """ISO 8601 and a few common export formats; a date without a zone is read in ``zone`` (the export's, else
    UTC) and given in UTC."""
    if value is None:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise InvalidComment("date", f"{value!r} is not a date; use ISO 8601, e.g. 2026-11-27T09:30:00Z")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone).astimezone(UTC)


def read_file(path: Path, **kwargs: object) -> CsvComments:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CsvError(f"cannot read {path}: {exc.strerror}") from None
    return read_csv(data, name=str(path), **kwargs)  # type: ignore[arg-type]
