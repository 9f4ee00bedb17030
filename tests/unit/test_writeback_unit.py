"""Write-back and API logic without a database: MIPS augmentation, edge rows, validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interestgraph.api import InterestGraph, _check_k, check_id
from interestgraph.errors import InputError
from interestgraph.sync.idmaps import IdMaps
from interestgraph.sync.writeback import _augment, _lists, embedding_property


def test_augmented_cosine_ranks_items_exactly_by_dot_product_and_recovers_the_score():
    rng = np.random.default_rng(0)
    emb = {"user": rng.normal(size=(20, 8)), "item": rng.normal(size=(50, 8)) * 3}
    vec, m = _augment(emb)
    assert vec["item"].shape == (50, 9) and vec["user"].shape == (20, 9)
    assert np.allclose(np.linalg.norm(vec["item"], axis=1), m, rtol=1e-5)
    for u in range(20):
        q = vec["user"][u]
        cos = vec["item"] @ q / (np.linalg.norm(vec["item"], axis=1) * np.linalg.norm(q))
        dot = emb["item"] @ emb["user"][u]
        assert (np.argsort(-cos) == np.argsort(-dot)).all()
        index_score = (1 + cos) / 2  # what Neo4j's cosine index returns
        recovered = (2 * index_score - 1) * np.linalg.norm(q) * m
        assert np.allclose(recovered, dot, rtol=1e-4, atol=1e-4)


def test_edge_lists_skip_missing_neighbours_and_keep_scores_aligned():
    maps = IdMaps.from_keys({"item": ["a", "b", "c"]})
    index = np.array([[1, 2], [0, -1], [-1, -1]])
    score = np.array([[0.9, 0.5], [0.7, np.nan], [np.nan, np.nan]], dtype=np.float32)
    keys = _lists(maps.keys["item"], index)
    scores = _lists(score, index)
    # one list per source row, best first (rank = position + 1); padding dropped
    assert keys == [["b", "c"], ["a"], []]
    assert scores[0] == pytest.approx([0.9, 0.5]) and scores[1] == pytest.approx([0.7])
    full = np.array([[2, 0], [1, 2]])
    assert _lists(maps.keys["item"], full).tolist() == [["c", "a"], ["b", "c"]]
    assert _lists(score[:2], full) is not None


def test_slots_and_api_validation_are_strict():
    assert embedding_property(1) == "embedding_1"
    with pytest.raises(ValueError):
        embedding_property(2)
    for bad in ("", "   ", None, 5, "x" * 257):
        with pytest.raises(InputError):
            check_id("user_id", bad)
    for bad in (0, 1001, True, 2.0):
        with pytest.raises(InputError):
            _check_k(bad)
    assert check_id("user_id", '"}) DETACH DELETE n //') == '"}) DETACH DELETE n //'


class _NoStore:
    """Fails the test if the API touches the database for invalid input."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"store.{name} used for invalid input")


def test_invalid_feedback_is_refused_before_any_query():
    from datetime import datetime

    ig = InterestGraph(_NoStore())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="kind must be one of"):
        ig.record_feedback("u", "i", "stare")
    with pytest.raises(InputError, match="timezone-aware"):
        ig.record_feedback("u", "i", "like", ts=datetime(2024, 1, 1))
    with pytest.raises(InputError, match="Unix seconds"):
        ig.record_feedback("u", "i", "like", ts=-5)
    with pytest.raises(InputError):
        ig.recommend("u", k=0)


def test_run_records_whether_its_item_lists_are_exact(tmp_path):
    from interestgraph.sync.writeback import _list_properties

    run = tmp_path / "run.json"
    run.write_text(json.dumps({"lists": {"user_items": {"method": "ivf", "recall": 0.97}}}))
    props = _list_properties(tmp_path)
    assert props["top_items_exact"] is False and props["top_items_recall"] == 0.97
    run.write_text(json.dumps({"lists": {"user_items": {"method": "exact"}}}))
    props = _list_properties(tmp_path)
    assert props["top_items_exact"] is True and "top_items_recall" not in props
    run.write_text(json.dumps({}))  # runs written before the field: their lists were exact
    assert _list_properties(tmp_path)["top_items_exact"] is True
