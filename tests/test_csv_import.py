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


# Exports as the survey tools write them (BOM, CRLF, quoted multi-line answers, extra header rows, their dates).
SURVEYMONKEY = (
    "\ufeffRespondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,Region,"
    '"How likely is it that you would recommend us to a friend or colleague?",What could we do better?\r\n'
    ",,,,,,,Response,Open-Ended Response\r\n"
    '118001,4412,12/01/2026 09:14:22 AM,12/01/2026 09:16:01 PM,203.0.113.7,,DACH,2,"Charged twice.\r\n'
    'The invoice shows two payments."\r\n'
    "118002,4412,12/02/2026 07:45:10 AM,12/02/2026 07:47:00 AM,,,DACH,0,"
    '"Die Lieferung kam drei Wochen zu spät, das Paket war beschädigt."\r\n'
).encode("utf-8")


def test_surveymonkey_export_second_header_row_is_not_a_comment_and_its_dates_are_read() -> None:
    parsed = read_csv(SURVEYMONKEY, name="surveymonkey.csv")
    assert parsed.errors == []
    assert parsed.mapping["nps"] == "How likely is it that you would recommend us to a friend or colleague?"
    first, second = list(parsed.comments())
    assert first.text == "Charged twice.\r\nThe invoice shows two payments." and first.nps == 2
    assert first.original_at == datetime(2026, 12, 1, 21, 16, 1, tzinfo=UTC)  # End Date, PM
    assert first.external_id == "118001" and first.fields["Region"] == "DACH"
    assert second.text.startswith("Die Lieferung") and second.nps == 0
    assert [line for line, _ in parsed.rows] == [4, 5]  # the line each record ends on, as before


QUALTRICS = (
    "\ufeffStartDate,EndDate,RecordedDate,ResponseId,Q1,Q2\r\n"
    "Start Date,End Date,Recorded Date,Response ID,How likely are you to recommend us?,Tell us more\r\n"
    '"{""ImportId"":""startDate"",""timeZone"":""America/Denver""}","{""ImportId"":""endDate""}",'
    '"{""ImportId"":""recordedDate""}","{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}",'
    '"{""ImportId"":""QID2_TEXT""}"\r\n'
    "2026-12-01 08:00:00,2026-12-01 08:03:00,2026-12-01 08:03:01,R_1abc,1,My warranty claim was ignored.\r\n"
).encode("utf-8")


def test_qualtrics_export_question_and_import_id_rows_are_not_comments() -> None:
    parsed = read_csv(QUALTRICS, name="qualtrics.csv", overrides=parse_map(["text=Q2"]))
    assert parsed.errors == []
    [comment] = list(parsed.comments())
    assert (comment.text, comment.external_id) == ("My warranty claim was ignored.", "R_1abc")
    assert comment.original_at == datetime(2026, 12, 1, 15, 3, 1, tzinfo=UTC)  # RecordedDate, 08:03:01 in Denver
    assert parsed.rows[0][0] == 4


def _qualtrics(import_ids: list[str], *dates: str) -> bytes:
    """A Qualtrics-shaped export: column ids, question texts, the ImportId row, then one response per date."""
    cells = ",".join('"' + cell.replace('"', '""') + '"' for cell in import_ids)
    head = f"StartDate,RecordedDate,ResponseId,Q2\r\nStart Date,Recorded Date,Response ID,Tell us more\r\n{cells}\r\n"
    rows = "".join(f"{date},{date},R_{n},Parcel {n} was late\r\n" for n, date in enumerate(dates))
    return (head + rows).encode("utf-8")


def test_qualtrics_dates_are_read_in_the_timezone_its_import_id_row_names_summer_and_winter() -> None:
    data = _qualtrics(
        [
            '{"ImportId":"startDate","timeZone":"America/Denver"}',
            '{"ImportId":"recordedDate","timeZone":"Europe/Berlin"}',
            '{"ImportId":"_recordId"}',
            '{"ImportId":"QID2_TEXT"}',
        ],
        "2026-07-01 08:00:00",
        "2026-12-01 08:00:00",
    )
    summer, winter = read_csv(data, name="q.csv", overrides=parse_map(["text=Q2"])).comments()
    # RecordedDate is the date column, and its own cell names Berlin: CEST (+2) in July, CET (+1) in December
    assert summer.original_at == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    assert winter.original_at == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def test_qualtrics_dates_are_utc_when_the_import_id_row_names_no_timezone() -> None:
    data = _qualtrics(
        ['{"ImportId":"startDate"}', '{"ImportId":"recordedDate"}', '{"ImportId":"_recordId"}', '{"ImportId":"QID2"}'],
        "2026-12-01 08:00:00",
    )
    [comment] = read_csv(data, name="q.csv", overrides=parse_map(["text=Q2"])).comments()
    assert comment.original_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_a_date_with_its_own_offset_keeps_it_whatever_the_export_says() -> None:
    data = _qualtrics(
        ['{"ImportId":"startDate","timeZone":"America/Denver"}', '{"ImportId":"recordedDate"}', "{}", "{}"],
        "2026-12-01T08:00:00Z",
    )
    [comment] = read_csv(data, name="q.csv", overrides=parse_map(["text=Q2"])).comments()
    assert comment.original_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_a_timezone_the_export_names_that_does_not_exist_refuses_the_file_naming_line_and_fix() -> None:
    data = _qualtrics(['{"ImportId":"startDate","timeZone":"Mountain Time"}', "{}", "{}", "{}"], "2026-12-01 08:00")
    with pytest.raises(CsvError, match=r"q.csv: line 3: the export names timezone 'Mountain Time', which is not an"):
        read_csv(data, name="q.csv", overrides=parse_map(["text=Q2"]))


def test_google_forms_and_typeform_exports_are_read_without_map() -> None:
    google = (
        b"Timestamp,Email address,How likely are you to recommend us? (0-10),Any comments?\r\n"
        b"12/1/2026 9:14:22,a@example.com,3,Parcel never arrived.\r\n"
    )
    parsed = read_csv(google, name="google.csv")
    assert parsed.errors == []
    [comment] = list(parsed.comments())
    assert (comment.text, comment.nps) == ("Parcel never arrived.", 3)
    assert comment.original_at == datetime(2026, 12, 1, 9, 14, 22, tzinfo=UTC)
    typeform = (
        b"#,How likely are you to recommend us to a friend?,What is the main reason for your score?,"
        b"Start Date (UTC),Submit Date (UTC),Network ID\r\n"
        b"a1b2c3,4,Refund still not received,2026-12-01 10:00:01,2026-12-01 10:02:13,f00ba7\r\n"
    )
    parsed = read_csv(typeform, name="typeform.csv")
    [comment] = list(parsed.comments())
    assert (comment.text, comment.nps, comment.external_id) == ("Refund still not received", 4, "a1b2c3")
    assert comment.original_at == datetime(2026, 12, 1, 10, 2, 13, tzinfo=UTC)


def test_a_first_row_that_is_a_real_comment_is_kept() -> None:
    parsed = read_csv(b"id,comment\r\n1,Response times are slow\r\n2,ok\r\n", name="x.csv")
    assert [c.text for c in parsed.comments()] == ["Response times are slow", "ok"]


def test_an_excel_workbook_is_refused_saying_to_save_it_as_csv() -> None:
    with pytest.raises(CsvError, match=r"export.xlsx: is an Excel workbook, not CSV; save it as CSV"):
        read_csv(b"PK\x03\x04\x14\x00\x06\x00binary\xff", name="export.xlsx")


def test_utf16_exports_with_a_byte_order_mark_are_read() -> None:
    # Excel's "Unicode Text" and Qualtrics' TSV: UTF-16 with a BOM, tab-separated
    data = "ResponseId\tComment\r\nR_1\tLa livraison était en retard 😞\r\n".encode("utf-16")
    [comment] = list(read_csv(data, name="qualtrics.tsv").comments())
    assert (comment.external_id, comment.text) == ("R_1", "La livraison était en retard 😞")


def test_a_qualtrics_export_without_map_names_its_questions_and_the_column_to_map() -> None:
    """Qualtrics names columns Q1, Q2; the error listed only those, and the admin had to open the file."""
    with pytest.raises(CsvError) as error:
        read_csv(QUALTRICS, name="qualtrics.csv")
    assert str(error.value).endswith(
        "Name the comment column with --map text=COLUMN. Qualtrics questions: Q1: 'How likely are you to recommend "
        "us?'; Q2: 'Tell us more'; e.g. --map text=Q2"
    )
