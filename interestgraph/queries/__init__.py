"""The analyst Cypher library: ``.cypher`` files, a registry and a read-only runner."""

__all__: list[str] = []
