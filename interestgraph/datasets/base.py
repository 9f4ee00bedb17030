"""What a dataset adapter returns: raw canonical tables plus the rows it set aside."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from interestgraph.errors import InputError
from interestgraph.ingest.reader import RawTable
from interestgraph.ingest.report import Problem

__all__ = ["Dataset", "find_folder", "raw_table", "read_mat"]


@dataclass
class Dataset:
    """Canonical tables produced by an adapter, with its own rejects and notes."""

    name: str
    tables: dict[str, RawTable]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    truth: pd.DataFrame | None = None  # planted ground truth (synthetic data only)


def raw_table(
    name: str, source: str, frame: pd.DataFrame, lines: pd.Series | None = None
) -> RawTable:
    """Wrap an adapter's frame as a raw table; ``lines`` are the source rows (1-based)."""
    frame = frame.reset_index(drop=True)
    frame["_line"] = range(1, len(frame) + 1) if lines is None else list(lines)
    return RawTable(name, source, frame, [], len(frame))


def find_folder(datasets_dir: Path, name: str, marker: str) -> Path:
    """Locate a dataset folder: ``datasets_dir/name`` or ``datasets_dir`` itself.

    Raises:
        InputError: Neither holds ``marker``; the message says which setting to change.
    """
    for cand in (Path(datasets_dir) / name, Path(datasets_dir)):
        if (cand / marker).exists():
            return cand
    raise InputError(
        f"dataset {name!r} not found: no {marker} in {Path(datasets_dir) / name}; set "
        "INTERESTGRAPH_DATASETS (or --datasets-dir) to the folder holding it. The data is "
        "read in place and never copied into the project."
    )


def read_mat(path: Path, var: str) -> np.ndarray:
    """Variable ``var`` of a MATLAB file (the Ciao and Epinions releases)."""
    from scipy.io import loadmat

    return np.asarray(loadmat(path)[var])
