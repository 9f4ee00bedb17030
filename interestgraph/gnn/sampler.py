"""A pure-PyTorch heterogeneous neighbour sampler for mini-batch training and inference.

Why our own: PyG's ``NeighborLoader`` / ``LinkNeighborLoader`` need ``pyg-lib`` (no PyPI
wheels) or ``torch-sparse`` (a ~12 minute source build on 2 cores for each torch
version), so a fresh machine cannot rely on them. This sampler needs only torch.

Method: per edge type, the edges are sorted by destination once (CSC: ``ptr``, ``src``).
From the seed nodes, each hop draws ``fanout[h]`` incoming edges per frontier node and
edge type, **uniformly with replacement** (vectorised: ``ptr[v] + floor(rand * deg(v))``,
duplicates removed), so a hop costs O(frontier × fanout) whatever the degrees are. The
subgraph is the union of all sampled edges over the sampled nodes, relabelled to local
ids; ``n_id[type]`` maps local rows to global ids, the (unique, sorted) seeds first.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["NeighborSampler", "Subgraph"]

EdgeType = tuple[str, str, str]


@dataclass
class Subgraph:
    """A sampled subgraph: global ids per type and edges in local ids."""

    n_id: dict[str, torch.Tensor]
    edge_index: dict[EdgeType, torch.Tensor]
    local: dict[str, torch.Tensor]  # per type: global id → local row (-1: not sampled)

    def num_edges(self) -> int:
        """Total sampled edges over all types."""
        return sum(int(e.shape[1]) for e in self.edge_index.values())


class NeighborSampler:
    """Uniform fan-out sampling over a heterogeneous graph.

    Args:
        edge_index: Edges per type (global ids, ``[2, E]``).
        num_nodes: Nodes per type.
        fanout: Incoming edges drawn per node, edge type and hop (e.g. ``[10, 5]``).
        seed: Seed of the sampler's own generator.
    """

    def __init__(
        self,
        edge_index: dict[EdgeType, torch.Tensor],
        num_nodes: dict[str, int],
        fanout: list[int],
        seed: int = 0,
    ) -> None:
        self.num_nodes, self.fanout = num_nodes, list(fanout)
        self.csc: dict[EdgeType, tuple[torch.Tensor, torch.Tensor]] = {}
        for et, ei in edge_index.items():
            ei = ei.cpu()
            order = torch.argsort(ei[1], stable=True)
            counts = torch.bincount(ei[1], minlength=num_nodes[et[2]])
            ptr = torch.zeros(num_nodes[et[2]] + 1, dtype=torch.long)
            ptr[1:] = torch.cumsum(counts, 0)
            self.csc[et] = (ptr, ei[0, order])
        self.gen = torch.Generator().manual_seed(seed)

    def sample(self, seeds: dict[str, torch.Tensor]) -> Subgraph:
        """Sample around ``seeds`` (global ids per type; repeats allowed, kept once)."""
        nodes = {t: [torch.unique(s.cpu())] for t, s in seeds.items() if len(s)}
        frontier = {t: v[0] for t, v in nodes.items()}
        picked: dict[EdgeType, list[torch.Tensor]] = {et: [] for et in self.csc}
        for k in self.fanout:
            nxt: dict[str, list[torch.Tensor]] = {}
            for et, (ptr, src) in self.csc.items():
                dst = frontier.get(et[2])
                if dst is None or not len(dst):
                    continue
                lo, deg = ptr[dst], ptr[dst + 1] - ptr[dst]
                has = deg > 0
                dst, lo, deg = dst[has], lo[has], deg[has]
                if not len(dst):
                    continue
                r = torch.rand((len(dst), k), generator=self.gen)
                pos = lo.unsqueeze(1) + (r * deg.unsqueeze(1)).long()
                pairs = torch.stack([pos.reshape(-1), dst.repeat_interleave(k)])
                pairs = torch.unique(pairs, dim=1)
                picked[et].append(torch.stack([src[pairs[0]], pairs[1]]))
                nxt.setdefault(et[0], []).append(src[pairs[0]])
            frontier = {}
            for t, parts in nxt.items():
                new = torch.unique(torch.cat(parts))
                nodes.setdefault(t, []).append(new)
                frontier[t] = new
        return self._relabel(seeds, nodes, picked)

    def _relabel(
        self,
        seeds: dict[str, torch.Tensor],
        nodes: dict[str, list[torch.Tensor]],
        picked: dict[EdgeType, list[torch.Tensor]],
    ) -> Subgraph:
        n_id, local = {}, {}
        for t, n in self.num_nodes.items():
            first = torch.unique(seeds[t].cpu()) if t in seeds else torch.zeros(0, dtype=torch.long)
            rest = torch.cat(nodes.get(t, [torch.zeros(0, dtype=torch.long)]))
            seen = torch.zeros(n, dtype=torch.bool)
            seen[first] = True
            rest = torch.unique(rest)
            rest = rest[~seen[rest]]
            n_id[t] = torch.cat([first, rest])
            m = torch.full((n,), -1, dtype=torch.long)
            m[n_id[t]] = torch.arange(len(n_id[t]))
            local[t] = m
        edges = {}
        for et, parts in picked.items():
            if not parts:
                continue
            e = torch.unique(torch.cat(parts, dim=1), dim=1)
            edges[et] = torch.stack([local[et[0]][e[0]], local[et[2]][e[1]]])
        return Subgraph(n_id, edges, local)

    def local_index(self, sub: Subgraph, ntype: str, ids: torch.Tensor) -> torch.Tensor:
        """Local row of each global id in ``ids`` (all must be in ``sub.n_id[ntype]``)."""
        out = sub.local[ntype][ids.cpu()]
        if (out < 0).any():
            raise ValueError(f"{int((out < 0).sum())} {ntype} ids are not in the subgraph")
        return out
