"""Models (heterogeneous GAT, baselines), training, evaluation, inference (tensors only)."""

__all__: list[str] = []
