"""InterestGraph: a Neo4j-backed user interest graph for e-commerce."""

from interestgraph.config import Settings
from interestgraph.errors import InterestGraphError

__version__ = "0.1.0"
__all__ = ["InterestGraph", "InterestGraphError", "Settings", "__version__"]


def __getattr__(name: str) -> object:
    """Lazy ``InterestGraph`` (keeps ``import interestgraph`` free of the driver)."""
    if name == "InterestGraph":
        from interestgraph.api import InterestGraph

        return InterestGraph
    raise AttributeError(f"module 'interestgraph' has no attribute {name!r}")
