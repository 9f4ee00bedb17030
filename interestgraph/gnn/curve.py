"""A training-curve plot as a self-contained SVG (no plotting library needed).

Two panels side by side: training loss per epoch, and the validation metric at the epochs
it was measured, with the best epoch marked.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_curve"]

_W, _H, _PAD = 360, 240, 44


def _panel(x0: int, title: str, xs: list[float], ys: list[float], best: int | None) -> str:
    if not xs:
        return f'<text x="{x0 + _W / 2}" y="{_H / 2}" text-anchor="middle">no {title}</text>'
    lo_x, hi_x = min(xs), max(xs)
    lo_y, hi_y = min(ys), max(ys)
    span_x, span_y = (hi_x - lo_x) or 1.0, (hi_y - lo_y) or 1.0

    def px(x: float) -> float:
        return x0 + _PAD + (x - lo_x) / span_x * (_W - 2 * _PAD)

    def py(y: float) -> float:
        return _H - _PAD - (y - lo_y) / span_y * (_H - 2 * _PAD)

    pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    parts = [
        f'<text x="{x0 + _W / 2}" y="18" text-anchor="middle" font-weight="bold">{title}</text>',
        f'<rect x="{x0 + _PAD}" y="{_PAD}" width="{_W - 2 * _PAD}" height="{_H - 2 * _PAD}"'
        ' fill="none" stroke="#999"/>',
        f'<polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>',
        f'<text x="{x0 + _PAD}" y="{_H - 14}">{lo_x:g}</text>',
        f'<text x="{x0 + _W - _PAD}" y="{_H - 14}" text-anchor="end">epoch {hi_x:g}</text>',
        f'<text x="{x0 + 4}" y="{_PAD + 4}">{hi_y:.4g}</text>',
        f'<text x="{x0 + 4}" y="{_H - _PAD}">{lo_y:.4g}</text>',
    ]
    if best is not None:
        bx, by = xs[best], ys[best]
        parts.append(f'<circle cx="{px(bx):.1f}" cy="{py(by):.1f}" r="4" fill="#d62728"/>')
        parts.append(
            f'<text x="{px(bx):.1f}" y="{py(by) - 8:.1f}" text-anchor="middle" fill="#d62728">'
            f"best {by:.4f} @ {bx:g}</text>"
        )
    return "\n".join(parts)


def write_curve(history: list[dict], path: Path, metric: str = "val recall@20") -> Path:
    """Write the loss and validation curves of ``history`` rows to an SVG file."""
    epochs = [float(r["epoch"]) for r in history]
    loss = [float(r["loss"]) for r in history]
    val_rows = [r for r in history if "val" in r]
    vx = [float(r["epoch"]) for r in val_rows]
    vy = [float(r["val"]) for r in val_rows]
    best = max(range(len(vy)), key=vy.__getitem__) if vy else None
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * _W}" height="{_H}"'
        ' font-family="sans-serif" font-size="11">\n'
        f'<rect width="{2 * _W}" height="{_H}" fill="white"/>\n'
        f"{_panel(0, 'training loss (BPR)', epochs, loss, None)}\n"
        f"{_panel(_W, metric, vx, vy, best)}\n</svg>\n"
    )
    path = Path(path)
    path.write_text(svg)
    return path
