"""Checkpoints: ``model.pt`` (a ``state_dict``) + ``config.json`` + ``curve.svg``.

``config.json`` records the hyper-parameters, the graph the model was built for (node
counts, feature widths, edge types), the export it was trained on (folder, counts, text
model), the training history and metrics, and library versions. Loading rebuilds the
model from ``config.json`` and reads the weights with ``torch.load(weights_only=True)``
(no pickled code is ever executed). A checkpoint only loads onto an export whose graph
matches (same node counts and edge types); anything else is a clear error.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import HeteroData

from interestgraph.errors import InputError
from interestgraph.gnn.curve import write_curve
from interestgraph.gnn.train import GATConfig, GATRec
from interestgraph.provenance import library_versions

__all__ = ["load_checkpoint", "read_config", "save_checkpoint"]

_FORMAT = "interestgraph-gat/1"


def save_checkpoint(
    folder: Path,
    rec: GATRec,
    *,
    export: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write ``rec``'s weights, configuration and training curve into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in rec.model.state_dict().items()}
    tmp = folder / "model.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(folder / "model.pt")
    export = export or {}
    config = {
        "format": _FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "hyperparameters": asdict(rec.config),
        "graph": rec.graph_meta(),
        "export": export,
        "text_model": export.get("text_model"),
        "device": str(rec.device),
        "history": rec.history,
        "metrics": metrics or {},
        "versions": library_versions(),
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2, default=str))
    write_curve(rec.history, folder / "curve.svg")
    return folder


def read_config(folder: Path) -> dict[str, Any]:
    """``config.json`` of a checkpoint, checked for the format version."""
    path = Path(folder) / "config.json"
    if not path.exists():
        raise InputError(
            f"{folder} holds no checkpoint (config.json missing); run `interestgraph train`"
        )
    config = json.loads(path.read_text())
    if config.get("format") != _FORMAT:
        raise InputError(f"{path}: format {config.get('format')!r}, expected {_FORMAT!r}")
    return config


def load_checkpoint(folder: Path, data: HeteroData, device: str | None = None) -> GATRec:
    """Rebuild the model saved in ``folder`` on the export ``data``.

    The message-passing graph is the export's full graph (all purchases), ready for
    inference; call :meth:`GATRec.use_graph` to change it.

    Raises:
        InputError: Not a checkpoint, another format, or a graph that does not match.
    """
    config = read_config(folder)
    rec = GATRec(data, GATConfig.from_dict(config["hyperparameters"]), device=device)
    want, have = config["graph"], rec.graph_meta()
    for key in ("num_nodes", "in_dims"):
        if want[key] != have[key]:
            raise InputError(
                f"{folder}: checkpoint built for {key} {want[key]}, the export has "
                f"{have[key]}; train on this export or load the export it was trained on"
            )
    if sorted(map(tuple, want["edge_types"])) != sorted(map(tuple, have["edge_types"])):
        raise InputError(f"{folder}: checkpoint edge types differ from the export's")
    state = torch.load(Path(folder) / "model.pt", weights_only=True, map_location=rec.device)
    rec.model.load_state_dict(state)
    rec.history = config.get("history", [])
    rec.use_graph(None)
    return rec
