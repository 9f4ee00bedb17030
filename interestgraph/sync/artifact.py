"""Save and load an export, so training can run on another machine without Neo4j.

A folder holds ``tensors.pt`` (a flat ``{name: Tensor}`` dict, loadable with
``torch.load(weights_only=True)``: no pickled classes), ``ids_<type>.parquet`` (the id
maps) and ``meta.json`` (counts, selection, text model and dimension, library versions).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import HeteroData

from interestgraph.errors import InputError
from interestgraph.provenance import library_versions
from interestgraph.sync.export import ExportInfo
from interestgraph.sync.idmaps import IdMaps

__all__ = ["load_export", "save_export"]

_FORMAT = "interestgraph-export/1"


def save_export(folder: Path, data: HeteroData, maps: IdMaps, info: ExportInfo) -> Path:
    """Write ``data``, ``maps`` and ``info`` into ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    flat: dict[str, torch.Tensor] = {}
    for ntype in data.node_types:
        flat[f"node|{ntype}|num_nodes"] = torch.tensor(data[ntype].num_nodes)
        for key, value in data[ntype].items():
            if isinstance(value, torch.Tensor):
                flat[f"node|{ntype}|{key}"] = value
    for etype in data.edge_types:
        for key, value in data[etype].items():
            if isinstance(value, torch.Tensor):
                flat["edge|" + "|".join(etype) + f"|{key}"] = value
    torch.save(flat, folder / "tensors.pt")
    maps.save(folder)
    meta = {
        "format": _FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "node_types": list(data.node_types),
        "edge_types": [list(e) for e in data.edge_types],
        "versions": library_versions(),
        **info.as_dict(),
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return folder


def load_export(folder: Path) -> tuple[HeteroData, IdMaps, dict[str, Any]]:
    """Read an export written by :func:`save_export`.

    Raises:
        InputError: The folder is not an export or has another format version.
    """
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        raise InputError(
            f"{folder} holds no export (meta.json missing); run `interestgraph export`"
        )
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != _FORMAT:
        raise InputError(f"{folder}: export format {meta.get('format')!r}, expected {_FORMAT!r}")
    flat = torch.load(folder / "tensors.pt", weights_only=True)
    data = HeteroData()
    for name, value in flat.items():
        kind, *parts = name.split("|")
        if kind == "node":
            ntype, key = parts
            if key == "num_nodes":
                data[ntype].num_nodes = int(value)
            else:
                data[ntype][key] = value
        else:
            s, r, d, key = parts
            data[(s, r, d)][key] = value
    maps = IdMaps.load(folder, meta["node_types"])
    return data, maps, meta
