"""InterestGraph: a Neo4j-backed user interest graph for e-commerce."""

from interestgraph.config import Settings
from interestgraph.errors import InterestGraphError

__version__ = "0.1.0"
__all__ = ["InterestGraphError", "Settings", "__version__"]
