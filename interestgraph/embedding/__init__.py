"""Text encoders and feature builders (sentence-transformers, offline default model)."""

from interestgraph.embedding.encoder import DEFAULT_MODEL, TextEncoder, text_hash
from interestgraph.embedding.graph_text import EmbedReport, embed_graph_text

__all__ = ["DEFAULT_MODEL", "EmbedReport", "TextEncoder", "embed_graph_text", "text_hash"]
