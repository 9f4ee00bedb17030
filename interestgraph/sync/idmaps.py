"""Deterministic id maps: sorted business keys ↔ contiguous indices, per node type.

Keys are held as numpy ``StringDType`` arrays (UTF-8 in one buffer, no Python object per
node). Looking keys up (``index``) hashes them with pandas' vectorised SipHash and binary-
searches the sorted hashes of the map (built once per type), then compares the strings at
the found rows, so a lookup is a few vectorised passes over the queried keys, never a
Python loop; a 64-bit hash collision between two keys of one map (never seen, checked at
build) falls back to a pandas hash index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.dtypes import StringDType

__all__ = ["IdMaps", "as_keys"]

Keys = Iterable[str] | np.ndarray | pa.Array | pa.ChunkedArray


def as_keys(values: Keys) -> np.ndarray:
    """Keys as a ``StringDType`` array (from lists, object/str arrays or Arrow arrays)."""
    if isinstance(values, np.ndarray) and isinstance(values.dtype, StringDType):
        return values
    if isinstance(values, pa.ChunkedArray | pa.Array):
        values = values.to_numpy(zero_copy_only=False)
    elif not isinstance(values, np.ndarray | list | tuple):  # sets, generators
        values = list(values)
    return np.asarray(values, dtype=StringDType()).reshape(-1)


def _hash(keys: np.ndarray) -> np.ndarray:
    return pd.util.hash_array(np.asarray(keys, dtype=object), categorize=False)


@dataclass
class IdMaps:
    """Per node type, the sorted business keys; index ``i`` of a type is ``keys[type][i]``.

    Sorting makes the mapping a pure function of the key set: two exports of the same
    graph give the same indices, on any machine.
    """

    keys: dict[str, np.ndarray] = field(default_factory=dict)
    _lookup: dict[str, tuple[np.ndarray, np.ndarray] | pd.Index] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def from_keys(cls, keys: dict[str, Keys]) -> IdMaps:
        """Build maps from unsorted, unique keys per node type."""
        maps = cls()
        for ntype, ks in keys.items():
            maps.keys[ntype] = np.unique(as_keys(ks))
        return maps

    @classmethod
    def from_sorted(cls, keys: dict[str, np.ndarray]) -> IdMaps:
        """Build maps from key arrays that are already sorted and unique (checked)."""
        maps = cls()
        for ntype, ks in keys.items():
            ks = as_keys(ks)
            if len(ks) > 1 and not bool(np.all(ks[1:] > ks[:-1])):
                ks = np.unique(ks)
            maps.keys[ntype] = ks
        return maps

    def _table(self, ntype: str) -> tuple[np.ndarray, np.ndarray] | pd.Index:
        if ntype not in self._lookup:
            hashes = _hash(self.keys[ntype])
            order = np.argsort(hashes, kind="stable")
            sorted_h = hashes[order]
            if len(sorted_h) > 1 and bool(np.any(sorted_h[1:] == sorted_h[:-1])):
                self._lookup[ntype] = pd.Index(self.keys[ntype].astype(object))
            else:
                self._lookup[ntype] = (sorted_h, order)
        return self._lookup[ntype]

    def num_nodes(self, ntype: str) -> int:
        """Number of nodes of ``ntype``."""
        return len(self.keys[ntype])

    def index(self, ntype: str, keys: Keys) -> np.ndarray:
        """Indices of ``keys`` (``-1`` for keys not in the map), as int64."""
        if len(keys) == 0 or self.num_nodes(ntype) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        query = np.asarray(
            keys.to_numpy(zero_copy_only=False) if isinstance(keys, pa.Array) else keys,
            dtype=object,
        )
        table = self._table(ntype)
        if isinstance(table, pd.Index):
            return table.get_indexer(query).astype(np.int64)
        sorted_h, order = table
        h = _hash(query)
        pos = np.minimum(np.searchsorted(sorted_h, h), len(sorted_h) - 1)
        idx = order[pos].astype(np.int64)
        ok = (sorted_h[pos] == h) & (self.keys[ntype][idx] == query)
        return np.where(ok, idx, -1)

    def key(self, ntype: str, index: np.ndarray | list[int]) -> np.ndarray:
        """Business keys of the given indices."""
        return self.keys[ntype][np.asarray(index, dtype=np.int64)]

    def save(self, folder: Path) -> None:
        """Write one Parquet file per node type (``ids_<type>.parquet``)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for ntype, ks in self.keys.items():
            pq.write_table(pa.table({"key": pa.array(ks, type=pa.string())}),
                           folder / f"ids_{ntype}.parquet")  # fmt: skip

    @classmethod
    def load(cls, folder: Path, ntypes: list[str]) -> IdMaps:
        """Read maps written by :meth:`save`."""
        folder = Path(folder)
        maps = cls()
        for ntype in ntypes:
            column = pq.read_table(folder / f"ids_{ntype}.parquet", columns=["key"])["key"]
            maps.keys[ntype] = as_keys(column)
        return maps
