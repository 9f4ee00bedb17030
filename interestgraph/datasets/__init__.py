"""Dataset adapters: public datasets and a seeded synthetic generator → canonical tables."""

__all__: list[str] = []
