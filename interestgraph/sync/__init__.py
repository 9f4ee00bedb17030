"""Neo4j ⇄ tensors: export to HeteroData, write-back of model outputs."""

__all__: list[str] = []
