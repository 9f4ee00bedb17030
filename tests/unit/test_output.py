import json

import pytest

from interestgraph.output import render


def test_table_aligns_columns_and_shows_missing_cells_empty():
    out = render([{"a": 1, "b": "x"}, {"a": 22}], "table").splitlines()
    assert out[0].split() == ["a", "b"]
    assert out[2].split() == ["1", "x"]
    assert out[3].split() == ["22"]


def test_record_renders_as_key_value_rows():
    out = render({"running": True, "pid": None}, "csv").splitlines()
    assert out == ["key,value", "running,True", "pid,"]


def test_json_round_trips():
    rows = [{"a": 1, "b": [1, 2]}]
    assert json.loads(render(rows, "json")) == rows


def test_empty_table_and_unknown_format():
    assert render([], "table") == "(no rows)"
    with pytest.raises(ValueError, match="unknown format"):
        render([], "xml")
