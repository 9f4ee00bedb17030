"""Id maps and export artifacts without a server."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from interestgraph.errors import InputError
from interestgraph.sync import IdMaps, load_export, save_export
from interestgraph.sync.export import ExportInfo


def test_id_maps_are_sorted_deterministic_and_invertible():
    a = IdMaps.from_keys({"user": ["u3", "u1", "u2", "u1"]})
    b = IdMaps.from_keys({"user": ["u2", "u1", "u3"]})
    assert list(a.keys["user"]) == list(b.keys["user"]) == ["u1", "u2", "u3"]
    assert a.index("user", ["u2", "zz", "u3"]).tolist() == [1, -1, 2]
    assert a.key("user", [2, 0]).tolist() == ["u3", "u1"]
    assert a.index("user", []).dtype == np.int64


def test_save_and_load_round_trip_without_pickles(tmp_path):
    data = HeteroData()
    data["user"].num_nodes = 3
    data["item"].num_nodes = 2
    data["item"].x = torch.randn(2, 4)
    data["user", "purchased", "item"].edge_index = torch.tensor([[0, 2], [1, 0]])
    data["user", "purchased", "item"].edge_weight = torch.tensor([1.0, 2.5])
    maps = IdMaps.from_keys({"user": ["a", "b", "c"], "item": ["x", "y"]})
    save_export(tmp_path, data, maps, ExportInfo(counts={"nodes:user": 3}, text_dim=4))
    flat = torch.load(tmp_path / "tensors.pt", weights_only=True)  # plain tensors only
    assert "node|item|x" in flat
    loaded, maps2, meta = load_export(tmp_path)
    assert torch.equal(loaded["item"].x, data["item"].x)
    assert loaded["user"].num_nodes == 3
    assert torch.equal(
        loaded["user", "purchased", "item"].edge_weight,
        data["user", "purchased", "item"].edge_weight,
    )
    assert maps2.keys["user"].tolist() == ["a", "b", "c"]
    assert meta["text_dim"] == 4 and meta["format"] == "interestgraph-export/1"


def test_loading_something_else_says_what_to_run(tmp_path):
    with pytest.raises(InputError, match="interestgraph export"):
        load_export(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(InputError, match="expected"):
        load_export(tmp_path)
