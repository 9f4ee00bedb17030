"""Heterogeneous GAT encoder and its decoders.

Encoder: every node starts from a learned id embedding (optionally plus a linear
projection of its text features — Item/Topic text embeddings; User: mean text of its
purchases — or with the id embedding started at the text's principal components), then
``layers`` rounds of ``HeteroConv`` with one ``GATConv((hidden, hidden), …,
add_self_loops=False)`` per edge type (reverse types included), summed per destination
type. Between layers there is optionally an ELU, dropout and a residual connection. The
output is the mean of the input and every layer's output (as LightGCN combines layers),
which keeps the id embeddings' collaborative signal strong: a plain GAT stack whose last
layer alone is used is known to trail BPR-MF. All inputs are projected to ``hidden``
first, so the attention layers have fixed input widths (no lazy parameters, and a
checkpoint loads without a dry run).

Decoders (documented, all inner products of the encoder output):

* user→item ``score = <h_u, h_i>`` (trained with BPR on purchases);
* user→topic ``score = <h_u, h_t>`` and user→user ``score = <h_u, h_v>`` (trained with
  an auxiliary BPR loss on follows, weight ``aux_weight`` in :class:`GATConfig`).

Shapes:
    ``forward(x_dict, edge_index_dict, n_id=None)`` → ``{node_type: [num_nodes, hidden]}``
    (with ``n_id``: rows for those global node ids only, as in a sampled subgraph).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv, HeteroConv
from torch_geometric.utils import softmax

from interestgraph.gnn.sparse import Adjacency, attention_spmm

__all__ = ["HeteroGATEncoder", "NormalizedGATConv", "dot_scores", "gat_conv", "info_nce"]

EdgeType = tuple[str, str, str]


def gat_conv(hidden: int, heads: int, dropout: float, bias: bool = True) -> GATConv:
    """``GATConv((hidden, hidden) → hidden)``, heads averaged, no self-loops (bipartite)."""
    return GATConv(
        (hidden, hidden),
        hidden,
        heads=heads,
        concat=False,
        add_self_loops=False,
        dropout=dropout,
        bias=bias,
    )


class NormalizedGATConv(nn.Module):
    """``GATConv`` with LightGCN's symmetric degree normalisation around the attention.

    Sources are scaled by ``deg_out(j)^-1/2`` before the (softmax-normalised) attention
    average and destinations by ``deg_in(i)^1/2`` after it, so with uniform attention the
    layer computes ``W · Σ_j x_j / sqrt(d_i d_j)`` — exactly LightGCN's propagation — and
    attention re-weights neighbours from there. Without it, softmax attention is a plain
    mean (``1/d_i``), which lets popular items dominate; that normalisation gap is a
    known reason why GATs trail LightGCN on collaborative filtering. The linear map
    starts as the identity (no bias), so training starts from LightGCN's propagation.
    """

    def __init__(
        self,
        hidden: int,
        heads: int,
        dropout: float,
        learn_transform: bool = True,
        attention: str = "learned",
        gate: float | None = None,
    ) -> None:
        super().__init__()
        if attention not in ("learned", "from-uniform", "uniform"):
            raise ValueError(f"attention={attention!r}: use 'learned', 'from-uniform' or 'uniform'")
        self.conv = gat_conv(hidden, heads, dropout, bias=False)
        self.learn_transform = learn_transform
        # a learned scale of this relation's messages (None: fixed at 1)
        self.gate = None if gate is None else nn.Parameter(torch.tensor(float(gate)))
        with torch.no_grad():
            for lin in {id(m): m for m in (self.conv.lin_src, self.conv.lin_dst)}.values():
                lin.weight.copy_(torch.eye(hidden).repeat(heads, 1))
                lin.weight.requires_grad_(learn_transform)
            if attention != "learned":  # start (or stay) at uniform weights: LightGCN
                for att in (self.conv.att_src, self.conv.att_dst):
                    att.zero_()
                    att.requires_grad_(attention == "from-uniform")

    def _identity_maps(self) -> bool:
        """True when both linear maps are frozen at the identity (the default)."""
        if self.learn_transform:
            return False
        eye = torch.eye(self.conv.out_channels, device=self.conv.lin_src.weight.device)
        eye = eye.repeat(self.conv.heads, 1)
        return all(
            torch.equal(lin.weight, eye.to(lin.weight.dtype))
            for lin in (self.conv.lin_src, self.conv.lin_dst)
        )

    def forward(
        self,
        x: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
        edge_index: torch.Tensor | Adjacency,
    ) -> torch.Tensor:
        """Attention over ``edge_index`` from ``x[0]`` (sources) into ``x[1]``.

        A single tensor means sources and destinations are the same node set. The layer
        is ``GATConv``'s (same parameters, same function) computed by
        :func:`~interestgraph.gnn.sparse.attention_spmm`, which keeps per-edge scalars
        only; ``edge_index`` may be prepared once as an
        :class:`~interestgraph.gnn.sparse.Adjacency`.
        """
        src, dst = (x, x) if isinstance(x, torch.Tensor) else x
        adj = (
            edge_index
            if isinstance(edge_index, Adjacency)
            else Adjacency.build(edge_index, src.shape[0], dst.shape[0])
        )
        conv = self.conv
        heads, width = conv.heads, conv.out_channels
        if self._identity_maps():  # every head sees the rows themselves: skip the products
            x_src, x_dst = src, dst
        else:
            x_src = conv.lin_src(src).view(-1, heads, width)
            x_dst = conv.lin_dst(dst).view(-1, heads, width)
        # GATConv sees sources scaled by deg^-1/2; the maps are linear, so the scale moves
        # onto the source logits and, with the destination's deg^1/2, onto the edge weights
        a_src = _logit(x_src, conv.att_src) * adj.inv_sqrt_deg_src.unsqueeze(1).to(src.dtype)
        a_dst = _logit(x_dst, conv.att_dst)
        logits = F.leaky_relu(a_src[adj.src] + a_dst[adj.dst], conv.negative_slope)
        alpha = softmax(logits, ptr=adj.ptr, num_nodes=adj.num_dst)
        alpha = F.dropout(alpha, p=conv.dropout, training=self.training)
        out = attention_spmm(alpha * adj.edge_norm.unsqueeze(1), x_src, adj)
        # squeeze, not out[:, 0]: select's backward allocates a zero [N, 1, C] per relation
        out = out.squeeze(1) if heads == 1 else out.mean(dim=1)
        return out if self.gate is None else out * self.gate.to(out.dtype)


def _logit(x: torch.Tensor, att: torch.Tensor) -> torch.Tensor:
    """Per-head attention logits ``[N, H]``: ``<x_h, att_h>`` for ``x`` ``[N, H, C]``, or
    for ``x`` ``[N, C]`` shared by every head (identity maps); ``att`` is ``[1, H, C]``."""
    att = att[0].to(x.dtype)
    if x.dim() == 2:
        return x @ att.T
    return torch.einsum("nhc,hc->nh", x, att)


class HeteroGATEncoder(nn.Module):
    """Heterogeneous GAT over all node and edge types of an export.

    Args:
        num_nodes: Nodes per type (rows of the id embeddings).
        in_dims: Text-feature width per type (0 or absent: id embedding only).
        edge_types: Edge types to pass messages along (include the ``rev_*`` types).
        hidden: Embedding width.
        heads: Attention heads (averaged, so the width stays ``hidden``).
        layers: Message-passing rounds.
        dropout: Dropout on attention weights and layer outputs.
        attention_dropout: Dropout on the attention weights only (``None``: ``dropout``);
            with near-uniform attention it drops random edges (DropEdge).
        activation: ELU on each layer's messages.
        residual: Add each layer's input to its output.
        normalize: Symmetric degree normalisation around the attention
            (:class:`NormalizedGATConv`); off: plain ``GATConv``.
        learn_transform: Train the per-relation linear maps (else they stay the identity
            and only the attention is learned; normalised layers only).
        attention: ``learned`` (random start), ``from-uniform`` (attention vectors start
            at zero, i.e. uniform weights = LightGCN's propagation, then learned) or
            ``uniform`` (never learned; an ablation). Normalised layers only.
        gates: Edge types whose messages get a learned scale (per layer), with its
            initial value — used to let the side relations (follows, topics) join the
            purchase signal gradually instead of at full weight.
        init_std: Standard deviation of the id embeddings' normal initialisation.
    """

    def __init__(
        self,
        num_nodes: dict[str, int],
        in_dims: dict[str, int],
        edge_types: list[EdgeType],
        hidden: int = 64,
        heads: int = 1,
        layers: int = 2,
        dropout: float = 0.0,
        attention_dropout: float | None = None,
        activation: bool = False,
        residual: bool = False,
        normalize: bool = True,
        learn_transform: bool = True,
        init_std: float = 0.1,
        attention: str = "learned",
        gates: dict[EdgeType, float] | None = None,
    ) -> None:
        super().__init__()
        self.activation, self.residual, self.normalize = activation, residual, normalize
        att_drop = dropout if attention_dropout is None else attention_dropout
        self.id_emb = nn.ModuleDict({t: nn.Embedding(n, hidden) for t, n in num_nodes.items()})
        for emb in self.id_emb.values():
            nn.init.normal_(emb.weight, std=init_std)
        self.proj = nn.ModuleDict(
            {t: nn.Linear(d, hidden, bias=False) for t, d in in_dims.items() if d > 0}
        )
        self.convs = nn.ModuleList(
            HeteroConv(
                {
                    et: NormalizedGATConv(
                        hidden, heads, att_drop, learn_transform, attention, (gates or {}).get(et)
                    )
                    if normalize
                    else gat_conv(hidden, heads, att_drop)
                    for et in edge_types
                },
                aggr="sum",
            )
            for _ in range(layers)
        )
        self.dropout = nn.Dropout(dropout)

    @torch.no_grad()
    def init_from_text(self, x_dict: dict[str, torch.Tensor], std: float) -> list[str]:
        """Start the id embeddings at the text's principal components (PCA, ``hidden``
        components, scaled to ``std``), so nodes with similar text start close; rows
        without text keep their random start. Returns the node types initialised."""
        done = []
        for t, emb in self.id_emb.items():
            x = x_dict.get(t)
            if x is None or x.shape[0] != emb.num_embeddings:
                continue
            has = x.abs().sum(1) > 0
            k = min(emb.embedding_dim, x.shape[1], int(has.sum()) - 1)
            if k < 1:
                continue
            xs = x[has].float()
            _, _, v = torch.pca_lowrank(xs, q=k, center=True)
            z = (xs - xs.mean(0)) @ v[:, :k]
            z = z / z.std().clamp(min=1e-12) * std
            emb.weight[has.to(emb.weight.device), :k] = z.to(emb.weight)
            done.append(t)
        return done

    def inputs(
        self, x_dict: dict[str, torch.Tensor], n_id: dict[str, torch.Tensor] | None = None
    ) -> dict[str, torch.Tensor]:
        """Layer-0 representation: id embedding + projected text (rows ``n_id`` only)."""
        h = {}
        for t, emb in self.id_emb.items():
            idx = None if n_id is None else n_id[t]
            h[t] = emb.weight if idx is None else emb(idx)
            if t in self.proj and t in x_dict:
                x = x_dict[t] if idx is None else x_dict[t][idx]
                h[t] = h[t] + self.proj[t](x)
        return h

    def forward(
        self,
        x_dict: dict[str, torch.Tensor],
        edge_index_dict: dict[EdgeType, torch.Tensor],
        n_id: dict[str, torch.Tensor] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Node embeddings per type (mean over the input and every layer's output).

        ``x_dict`` holds full feature matrices; with ``n_id`` the edges index into the
        ``n_id`` rows (a sampled subgraph in local ids).
        """
        return self.combine(self.layer_outputs(x_dict, edge_index_dict, n_id))

    @staticmethod
    def combine(outs: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Mean of the per-layer outputs (input included), per node type, in float32."""
        mean = {}
        for t in outs[-1]:
            acc = outs[0][t].float()
            for o in outs[1:]:
                acc = acc + o[t].float()
            mean[t] = acc / len(outs)
        return mean

    def layer_outputs(
        self,
        x_dict: dict[str, torch.Tensor],
        edge_index_dict: dict[EdgeType, torch.Tensor],
        n_id: dict[str, torch.Tensor] | None = None,
        noise: float = 0.0,
    ) -> list[dict[str, torch.Tensor]]:
        """The input and every layer's output, per node type (``layers + 1`` dicts).

        ``noise > 0`` adds SimGCL's perturbation to every layer's output: a random
        direction of length ``noise`` in the same orthant as the embedding (training only;
        the contrastive loss compares the noisy views).
        """
        if not self.normalize:  # plain GATConv takes edge indices
            edge_index_dict = {
                et: e.edge_index if isinstance(e, Adjacency) else e
                for et, e in edge_index_dict.items()
            }
        h = self.inputs(x_dict, n_id)
        outs = [h]
        for conv in self.convs:
            msg: dict[str, torch.Tensor] = {}
            for et, rel_conv in conv.convs.items():  # HeteroConv's sum, without its stack
                if et not in edge_index_dict:
                    continue
                s, _, d = et
                out = rel_conv(h[s] if s == d else (h[s], h[d]), edge_index_dict[et])
                msg[d] = out if d not in msg else msg[d] + out
            new = {}
            for t in h:
                if t not in msg:
                    new[t] = h[t]
                    continue
                m = torch.nn.functional.elu(msg[t]) if self.activation else msg[t]
                m = (self.dropout(m) if self.dropout.p > 0 else m).to(h[t].dtype)
                new[t] = h[t] + m if self.residual else m
                if noise > 0:
                    d = torch.nn.functional.normalize(torch.rand_like(new[t]), dim=-1)
                    new[t] = new[t] + torch.sign(new[t]) * d * noise
            h = new
            outs.append(h)
        return outs


def dot_scores(h_src: torch.Tensor, h_dst: torch.Tensor) -> torch.Tensor:
    """Pairwise dot products of aligned rows: ``[E, d] x [E, d] → [E]``."""
    return (h_src * h_dst).sum(-1)


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE between two views of the same rows: row ``i`` of ``a`` should match row ``i``
    of ``b`` among all rows of ``b`` (cosine similarity / ``temperature``)."""
    a = torch.nn.functional.normalize(a.float(), dim=-1)
    b = torch.nn.functional.normalize(b.float(), dim=-1)
    logits = a @ b.T / temperature
    return torch.nn.functional.cross_entropy(logits, torch.arange(len(a), device=a.device))
