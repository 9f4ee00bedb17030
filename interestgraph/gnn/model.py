"""Heterogeneous GAT encoder and a dot-product decoder (first version).

Encoder: every node starts from a learned id embedding plus a linear projection of its
text features (Item/Topic text embeddings; User: mean text of its purchases), then
``layers`` rounds of ``HeteroConv`` with one ``GATConv((-1, -1), …, add_self_loops=False)``
per edge type (reverse types included), summed per destination type, with a residual
connection, ELU and dropout. The output is the mean of the layer outputs (as LightGCN
combines layers), which keeps the id embeddings' collaborative signal strong — a plain GAT
stack is known to trail BPR-MF when the last layer alone is used.

Decoder: ``score(u, i) = <h_u, h_i>`` (user→item, and equally user→topic / user→user).

Shapes:
    ``forward(x_dict, edge_index_dict)`` → ``{node_type: [num_nodes, hidden]}``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import GATConv, HeteroConv

__all__ = ["HeteroGATEncoder", "dot_scores"]


class HeteroGATEncoder(nn.Module):
    """Heterogeneous GAT over all node and edge types of an export.

    Args:
        num_nodes: Nodes per type.
        in_dims: Text-feature width per type (0: no features, id embedding only).
        edge_types: Edge types to pass messages along (include the ``rev_*`` types).
        hidden: Embedding width.
        heads: Attention heads (averaged, so the width stays ``hidden``).
        layers: Message-passing rounds.
        dropout: Dropout on attention weights and layer outputs.
    """

    def __init__(
        self,
        num_nodes: dict[str, int],
        in_dims: dict[str, int],
        edge_types: list[tuple[str, str, str]],
        hidden: int = 64,
        heads: int = 2,
        layers: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.id_emb = nn.ModuleDict({t: nn.Embedding(n, hidden) for t, n in num_nodes.items()})
        for emb in self.id_emb.values():
            nn.init.normal_(emb.weight, std=0.1)
        self.proj = nn.ModuleDict(
            {t: nn.Linear(d, hidden, bias=False) for t, d in in_dims.items() if d > 0}
        )
        self.convs = nn.ModuleList(
            HeteroConv(
                {
                    et: GATConv(
                        (-1, -1),
                        hidden,
                        heads=heads,
                        concat=False,
                        add_self_loops=False,
                        dropout=dropout,
                    )
                    for et in edge_types
                },
                aggr="sum",
            )
            for _ in range(layers)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x_dict: dict[str, torch.Tensor],
        edge_index_dict: dict[tuple[str, str, str], torch.Tensor],
    ) -> dict[str, torch.Tensor]:
        """Node embeddings per type (mean over the input and every layer's output)."""
        h = {}
        for t, emb in self.id_emb.items():
            h[t] = emb.weight
            if t in self.proj and t in x_dict:
                h[t] = h[t] + self.proj[t](x_dict[t])
        outs = [h]
        for conv in self.convs:
            msg = conv(h, edge_index_dict)
            h = {
                t: (h[t] + self.dropout(torch.nn.functional.elu(msg[t]))) if t in msg else h[t]
                for t in h
            }
            outs.append(h)
        return {t: torch.stack([o[t] for o in outs]).mean(0) for t in h}


def dot_scores(h_src: torch.Tensor, h_dst: torch.Tensor) -> torch.Tensor:
    """Pairwise dot products of aligned rows: ``[E, d] x [E, d] → [E]``."""
    return (h_src * h_dst).sum(-1)
