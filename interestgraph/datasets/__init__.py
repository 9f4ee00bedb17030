"""Dataset adapters: public datasets and a seeded synthetic generator → canonical tables."""

from pathlib import Path

from interestgraph.datasets.base import Dataset
from interestgraph.datasets.ciao import load_ciao
from interestgraph.datasets.epinions import load_epinions
from interestgraph.datasets.lastfm import load_lastfm
from interestgraph.datasets.synthetic import generate

__all__ = [
    "DATASETS",
    "Dataset",
    "generate",
    "load_ciao",
    "load_dataset",
    "load_epinions",
    "load_lastfm",
]

DATASETS = ("lastfm", "ciao", "epinions", "synthetic")


def load_dataset(name: str, datasets_dir: Path, *, size: int = 20_000, seed: int = 7) -> Dataset:
    """Canonical tables for ``name`` (``lastfm``, ``ciao``, ``epinions`` or ``synthetic``)."""
    if name == "lastfm":
        return load_lastfm(datasets_dir)
    if name == "ciao":
        return load_ciao(datasets_dir)
    if name == "epinions":
        return load_epinions(datasets_dir)
    if name == "synthetic":
        return generate(size=size, seed=seed)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
