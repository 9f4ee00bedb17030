"""Neo4j ⇄ tensors: export to HeteroData (fidelity-checked), save/load, write-back."""

from interestgraph.sync.artifact import load_export, save_export
from interestgraph.sync.export import EDGE_TYPES, NODE_TYPES, ExportFidelityError, export_graph
from interestgraph.sync.idmaps import IdMaps

__all__ = [
    "EDGE_TYPES",
    "NODE_TYPES",
    "ExportFidelityError",
    "IdMaps",
    "export_graph",
    "load_export",
    "save_export",
]
