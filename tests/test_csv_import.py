from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.csv_import import CsvError, parse_map, read_csv


def test_common_survey_headers_are_mapped() -> None:
    data = b"Response ID,Submitted At,Verbatim,NPS,CSAT,Segment,Region\nR1,2026-11-01T10:00:00Z,Great,9,5,SMB,EU\n"
    parsed = read_csv(data, name="x.csv")
    assert parsed.mapping == {
        "text": "Verbatim",
        "nps": "NPS",
        "csat": "CSAT",
        "date": "Submitted At",
        "id": "Response ID",
        "segment": "Segment",
    }
    [comment] = list(parsed.comments())
    assert comment.text == "Great"
    assert comment.external_id == "R1"
    assert comment.nps == 9 and comment.csat == 5
    assert comment.original_at == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert comment.fields == {"Region": "EU"}  # unmapped columns are kept for routing rules


def test_map_option_names_columns() -> None:
    data = b"Q1,Q2\nThe invoice was wrong,3\n"
    parsed = read_csv(data, name="x.csv", overrides=parse_map(["text=Q1,nps=Q2"]))
    [comment] = list(parsed.comments())
    assert (comment.text, comment.nps) == ("The invoice was wrong", 3)


def test_file_without_text_column_names_the_columns_and_imports_nothing() -> None:
    with pytest.raises(CsvError) as error:
        read_csv(b"id,score\n1,5\n", name="export.csv")
    assert "['id', 'score']" in str(error.value)
    assert "--map text=" in str(error.value)


def test_invalid_utf8_names_the_line_and_the_fix() -> None:
    with pytest.raises(CsvError, match=r"line 3 is not valid utf-8-sig.*--encoding"):
        read_csv(b"comment\nfine\ncaf\xe9 was cold\n", name="x.csv")


def test_other_encoding_can_be_named() -> None:
    parsed = read_csv(b"comment\ncaf\xe9 was cold\n", name="x.csv", encoding="cp1252")
    assert [c.text for c in parsed.comments()] == ["café was cold"]


def test_bad_scores_refuse_the_row_with_its_line_and_keep_the_rest() -> None:
    data = b"comment,nps,csat\nok,5,\nbad nps,11,\nbad csat,,x\nempty text,,\n,3,\n"
    parsed = read_csv(data, name="x.csv")
    assert [c.text for c in parsed.comments()] == ["ok", "empty text"]
    assert [(e.line, e.message.split(":")[0]) for e in parsed.errors] == [(3, "nps"), (4, "csat"), (6, "comment")]


def test_semicolon_delimited_exports_and_bom() -> None:
    parsed = read_csv("\ufefffeedback;rating\nSchnelle Lieferung;5\n".encode(), name="x.csv")
    [comment] = list(parsed.comments())
    assert (comment.text, comment.csat) == ("Schnelle Lieferung", 5)


def test_quoted_commas_emoji_and_right_to_left_text() -> None:
    data = 'comment\n"Late, again 😡"\n"الطلب وصل متأخرا"\n'.encode()
    assert [c.text for c in read_csv(data, name="x.csv").comments()] == ["Late, again 😡", "الطلب وصل متأخرا"]


def test_bad_map_option_is_explained() -> None:
    with pytest.raises(CsvError, match="field=Column"):
        parse_map(["text"])
    with pytest.raises(CsvError, match="unknown field 'colour'"):
        parse_map(["colour=Q1"])
    with pytest.raises(CsvError, match="no such column"):
        read_csv(b"a\n1\n", name="x.csv", overrides={"text": "Q9"})


def test_empty_file_is_refused() -> None:
    with pytest.raises(CsvError, match="empty"):
        read_csv(b"", name="x.csv")


def test_a_comment_longer_than_the_csv_modules_cell_limit_is_read_for_the_core_to_cut(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.importer import import_csv
    from stories.redacted_comment import MAX_KEPT

    long = "The parcel came late. " * 9_000  # 198,000 characters; csv refuses cells over 131,072 by default
    path = tmp_path / "long.csv"
    path.write_text(f'id,comment\nL1,"{long}"\n', encoding="utf-8")
    assert import_csv(app, path) == 0
    with app.engine.connect() as conn:
        from sqlalchemy import text

        stored = conn.execute(text("SELECT redacted_text FROM comments")).scalar_one()
    assert stored.endswith(f" … [cut: {len(long.strip()) - MAX_KEPT:,} more characters]")  # cells are stripped
    assert len(stored) < MAX_KEPT + 50
