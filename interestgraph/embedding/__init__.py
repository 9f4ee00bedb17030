"""Text encoders and feature builders (sentence-transformers; filled by the sync issue)."""

__all__: list[str] = []
