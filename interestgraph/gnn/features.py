"""Node features derived from neighbours, in bounded chunks of edges."""

from __future__ import annotations

import torch

__all__ = ["mean_of_neighbours"]

#: Edges gathered at once: [chunk, width] rows of the neighbours' features.
EDGE_CHUNK = 262_144


def mean_of_neighbours(
    src: torch.Tensor, dst: torch.Tensor, x_dst: torch.Tensor, num_src: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per source node, the mean of ``x_dst`` over its edges ``src → dst``.

    Gathers ``EDGE_CHUNK`` edges at a time, so memory is ``num_src × width`` plus one
    chunk, not ``edges × width``. Returns ``(means [num_src, width], edge counts)``; rows
    without edges are zero.
    """
    sums = torch.zeros(num_src, x_dst.shape[1], dtype=x_dst.dtype, device=x_dst.device)
    for lo in range(0, len(src), EDGE_CHUNK):
        s, d = src[lo : lo + EDGE_CHUNK], dst[lo : lo + EDGE_CHUNK]
        sums.index_add_(0, s.to(sums.device), x_dst[d.to(x_dst.device)])
    counts = torch.bincount(src, minlength=num_src).to(sums.device)
    return sums / counts.clamp(min=1).unsqueeze(1).to(sums.dtype), counts
