"""Deterministic id maps: sorted business keys ↔ contiguous indices, per node type."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["IdMaps"]


@dataclass
class IdMaps:
    """Per node type, the sorted business keys; index ``i`` of a type is ``keys[type][i]``.

    Sorting makes the mapping a pure function of the key set: two exports of the same
    graph give the same indices, on any machine.
    """

    keys: dict[str, np.ndarray] = field(default_factory=dict)
    _index: dict[str, pd.Index] = field(default_factory=dict, repr=False)

    @classmethod
    def from_keys(cls, keys: dict[str, list[str] | np.ndarray]) -> IdMaps:
        """Build maps from unsorted, unique keys per node type."""
        maps = cls()
        for ntype, ks in keys.items():
            arr = np.array(sorted(set(ks)), dtype=object)
            maps.keys[ntype] = arr
        return maps

    def _idx(self, ntype: str) -> pd.Index:
        if ntype not in self._index:
            self._index[ntype] = pd.Index(self.keys[ntype])
        return self._index[ntype]

    def num_nodes(self, ntype: str) -> int:
        """Number of nodes of ``ntype``."""
        return len(self.keys[ntype])

    def index(self, ntype: str, keys: list[str] | np.ndarray) -> np.ndarray:
        """Indices of ``keys`` (``-1`` for keys not in the map), as int64."""
        if len(keys) == 0:
            return np.zeros(0, dtype=np.int64)
        return self._idx(ntype).get_indexer(pd.Index(keys, dtype=object)).astype(np.int64)

    def key(self, ntype: str, index: np.ndarray | list[int]) -> np.ndarray:
        """Business keys of the given indices."""
        return self.keys[ntype][np.asarray(index, dtype=np.int64)]

    def save(self, folder: Path) -> None:
        """Write one Parquet file per node type (``ids_<type>.parquet``)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for ntype, ks in self.keys.items():
            pd.DataFrame({"key": ks.astype(str)}).to_parquet(folder / f"ids_{ntype}.parquet")

    @classmethod
    def load(cls, folder: Path, ntypes: list[str]) -> IdMaps:
        """Read maps written by :meth:`save`."""
        folder = Path(folder)
        maps = cls()
        for ntype in ntypes:
            frame = pd.read_parquet(folder / f"ids_{ntype}.parquet")
            maps.keys[ntype] = frame["key"].to_numpy(dtype=object)
        return maps
