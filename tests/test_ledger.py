"""The forecast ledger: rows appended, records checked by their SHA-256."""

from sim.validation.forecast import ledger


def test_a_sealed_record_matches_its_row_until_altered(tmp_path):
    book = tmp_path / "LEDGER.md"
    record = tmp_path / "records" / "r.json"
    record.parent.mkdir()
    record.write_text('{"p": 0.1}\n')
    row = ledger.append(book, record, "2025-11-30T00:00:00+00:00")
    assert row.record == "records/r.json" and ledger.rows(book) == [row]
    assert "# Forecast ledger" in book.read_text()
    ok, why = ledger.check(book, record)
    assert ok, why
    record.write_text('{"p": 0.2}\n')
    ok, why = ledger.check(book, record)
    assert not ok and "altered after sealing" in why


def test_a_record_missing_from_the_ledger_fails(tmp_path):
    record = tmp_path / "r.json"
    record.write_text("{}")
    ok, why = ledger.check(tmp_path / "LEDGER.md", record)
    assert not ok and "not in the ledger" in why


def test_rows_are_only_appended(tmp_path):
    book = tmp_path / "LEDGER.md"
    for name in ("a", "b"):
        (tmp_path / name).write_text(name)
        ledger.append(book, tmp_path / name, "t")
    text = book.read_text()
    assert [r.record for r in ledger.rows(book)] == ["a", "b"]
    (tmp_path / "c").write_text("c")
    ledger.append(book, tmp_path / "c", "t")
    assert book.read_text().startswith(text)
