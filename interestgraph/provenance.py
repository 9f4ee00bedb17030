"""Library versions recorded in every artifact (exports, checkpoints) for reproducibility."""

from __future__ import annotations

import platform

__all__ = ["library_versions"]


def library_versions() -> dict[str, str]:
    """Versions of the project, torch, PyG, the Neo4j driver and Python."""
    import neo4j
    import torch
    import torch_geometric

    from interestgraph import __version__

    return {
        "interestgraph": __version__,
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "neo4j_driver": neo4j.__version__,
        "python": platform.python_version(),
    }
