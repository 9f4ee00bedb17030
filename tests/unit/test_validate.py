"""Reading and validating canonical tables (no server: references resolve within the input)."""

from __future__ import annotations

import pandas as pd
import pytest

from interestgraph.errors import InputError
from interestgraph.ingest.reader import read_folder
from interestgraph.ingest.validate import validate
from tests.shop import EXPECTED_PROBLEMS, write_corrupted, write_valid


def test_valid_shop_has_no_problems_and_merges_repeated_purchases(tmp_path):
    clean = validate(read_folder(write_valid(tmp_path)))
    assert clean.problems == []
    p = clean.frames["purchases"].set_index(["user_id", "item_id"])
    assert len(p) == 3
    assert clean.reports["purchases"].merged == 1
    assert p.loc[("u1", "i1"), "weight"] == 3.0  # 1 + 2
    assert p.loc[("u1", "i1"), "channel"] == "app"  # from the latest row
    assert p.loc[("u1", "i1"), "ts"] == pd.Timestamp("2024-03-05T10:00:00Z").timestamp()
    assert p.loc[("u3", "i3"), "weight"] == 1.0  # empty weight → 1
    assert p.loc[("u3", "i3"), "ts"] == pd.Timestamp("2024-03-02T00:00:00Z").timestamp()
    assert clean.extras["items"] == ["price"]
    assert clean.frames["items"]["price"].tolist() == [99.5, 45.0, 199.0]
    f = clean.frames["follows"]
    assert f.set_index("user_id").loc["u2", "followee_type"] == "user"  # default


def test_corrupted_copy_reports_file_line_column_and_reason(tmp_path):
    clean = validate(read_folder(write_corrupted(tmp_path)))
    got = [(p.file, p.line, p.column, p.reason) for p in clean.problems]
    for file, line, column, fragment in EXPECTED_PROBLEMS:
        assert any(
            g[0] == file and g[1] == line and g[2] == column and fragment in g[3] for g in got
        ), (file, line, column, fragment, got)
    assert len(got) == len(EXPECTED_PROBLEMS)
    assert all(p.fix for p in clean.problems)
    # valid rows survive: u1, u2; i1, i2; one purchase; one follow
    assert sorted(clean.frames["users"]["user_id"]) == ["u1", "u2"]
    assert sorted(clean.frames["items"]["item_id"]) == ["i1", "i2"]
    assert clean.frames["purchases"][["user_id", "item_id"]].values.tolist() == [["u1", "i1"]]
    assert len(clean.frames["follows"]) == 1


def test_problem_text_names_file_line_column_and_fix(tmp_path):
    clean = validate(read_folder(write_corrupted(tmp_path)))
    text = str(next(p for p in clean.problems if p.column == "weight"))
    assert text.startswith("purchases.csv line 4, column weight: weight is not a positive")
    assert "'-3'" in text and "use a number > 0" in text


def test_latin1_file_reads_with_the_encoding_option(tmp_path):
    write_valid(tmp_path)
    (tmp_path / "topics.csv").write_bytes(b"topic_id,name\nt1,Caf\xe9\nt2,Audio\n")
    assert any("not valid utf-8" in p.reason for p in validate(read_folder(tmp_path)).problems)
    clean = validate(read_folder(tmp_path, encoding="latin-1"))
    assert "Café" in set(clean.frames["topics"]["name"])


def test_missing_required_column_rejects_the_table_with_the_header_shown(tmp_path):
    write_valid(tmp_path)
    (tmp_path / "items.csv").write_text("item_id,name\ni1,x\n")
    clean = validate(read_folder(tmp_path))
    [p] = [p for p in clean.problems if p.file == "items.csv"]
    assert (
        p.line == 1
        and "missing required column(s) title" in p.reason
        and "item_id, name" in p.reason
    )


def test_parquet_input_with_integer_ids(tmp_path):
    pd.DataFrame({"user_id": [1, 2]}).to_parquet(tmp_path / "users.parquet")
    pd.DataFrame({"item_id": [10], "title": ["x"]}).to_parquet(tmp_path / "items.parquet")
    pd.DataFrame(
        {"user_id": [1, 2], "item_id": [10, 11], "ts": pd.to_datetime(["2024-01-01", "2024-01-02"])}
    ).to_parquet(tmp_path / "purchases.parquet")
    clean = validate(read_folder(tmp_path))
    assert clean.frames["users"]["user_id"].tolist() == ["1", "2"]
    [p] = clean.problems
    assert (p.file, p.line, p.column) == ("purchases.parquet", 2, "item_id")


def test_injection_like_ids_are_plain_values(tmp_path):
    evil = '"}) DETACH DELETE n //'
    (tmp_path / "users.csv").write_text(f'user_id\n"{evil.replace(chr(34), chr(34) * 2)}"\n')
    clean = validate(read_folder(tmp_path))
    assert clean.problems == [] and clean.frames["users"]["user_id"].tolist() == [evil]


def test_folder_errors_say_what_is_expected(tmp_path):
    with pytest.raises(InputError, match="no input tables"):
        read_folder(tmp_path)
    (tmp_path / "users.csv").write_text("user_id\nu1\n")
    pd.DataFrame({"user_id": ["u1"]}).to_parquet(tmp_path / "users.parquet")
    with pytest.raises(InputError, match="given twice"):
        read_folder(tmp_path)


def test_invalid_bytes_in_the_header_are_a_problem_not_a_crash(tmp_path):
    # found by tests/integration/test_fuzz_ingest.py (pyarrow refused the surrogates)
    folder = write_valid(tmp_path)
    (folder / "users.csv").write_bytes(b"\x00\xc3(user_id\nu1\n")
    clean = validate(read_folder(folder))
    p = next(p for p in clean.problems if p.file == "users.csv")
    assert p.line == 1 and "header line has bytes that are not valid utf-8" in p.reason
