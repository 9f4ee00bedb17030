"""Training the heterogeneous GAT for link prediction (BPR), full-graph or mini-batch.

The message-passing graph is the export's graph with its purchase edges **replaced by the
training split** (and their reverse), so no validation or test purchase is ever visible
to the model; user text features are recomputed from training purchases only for the
same reason.

Loss: BPR with one uniform negative item per training purchase, L2 on the id embeddings
of the batch, plus ``aux_weight`` × BPR on user→topic and user→user follows (uniform
negative topic / user), which trains the interest and co-interest decoders.

Two paths, same model and loss:

* **full graph** (default when it fits): every step runs the encoder over the whole graph;
* **mini-batch** (``fanout`` set): every step samples the batch's neighbourhood with
  :class:`~interestgraph.gnn.sampler.NeighborSampler` and encodes that subgraph only;
  inference encodes the nodes in chunks the same way.

Device: CUDA when available, else CPU (same code); bf16 autocast on CUDA. Seeds fix the
initialisation, the negatives and the sampler.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch_geometric.data import HeteroData

from interestgraph.errors import InputError
from interestgraph.gnn.baselines import Interactions, _Trained, bpr_epoch, bpr_loss
from interestgraph.gnn.features import mean_of_neighbours
from interestgraph.gnn.model import HeteroGATEncoder, dot_scores, info_nce
from interestgraph.gnn.sampler import NeighborSampler
from interestgraph.gnn.sparse import prepare_edges

__all__ = ["GATConfig", "GATRec", "training_graph"]

PURCHASED = ("user", "purchased", "item")
REV_PURCHASED = ("item", "rev_purchased", "user")
FOLLOWS_TOPIC = ("user", "follows", "topic")
FOLLOWS_USER = ("user", "follows", "user")
EdgeType = tuple[str, str, str]
log = logging.getLogger(__name__)


@dataclass
class GATConfig:
    """Hyper-parameters of the GAT and its training (saved in every checkpoint)."""

    hidden: int = 64
    heads: int = 1
    layers: int = 3
    dropout: float = 0.0
    #: dropout on the attention weights (DropEdge-like; None: same as ``dropout``)
    attention_dropout: float | None = 0.4
    activation: bool = False
    residual: bool = False
    normalize: bool = True
    learn_transform: bool = False  # True: learn the per-relation linear maps (identity start)
    #: "learned" (random start), "from-uniform" (zero start, learned) or "uniform" (fixed)
    attention: str = "learned"
    attention_lr_scale: float = 1.0  # the attention vectors' learning rate / lr
    #: side relations' messages scaled by a learned per-layer gate starting here (None: 1)
    side_gate: float | None = None
    use_text: bool = False  # True: add a learned projection of the text to the input
    text_init: bool = False  # start the id embeddings at the text's PCA components
    init_std: float = 0.1  # normal initialisation of the id embeddings
    epochs: int = 150
    lr: float = 2e-3
    weight_decay: float = 1e-4
    batch_size: int = 4096
    aux_weight: float = 0.1
    #: contrastive regulariser (XSimGCL): weight of InfoNCE between the final embeddings
    #: and layer ``cl_layer``'s, both perturbed by noise of length ``cl_noise``; 0: off
    cl_weight: float = 0.0
    cl_noise: float = 0.1
    cl_temperature: float = 0.2
    cl_layer: int = 1
    seed: int = 0
    patience: int = 4
    eval_every: int = 3
    fanout: list[int] = field(default_factory=list)  # empty: full graph
    #: side relations to pass messages along besides purchases (``follows``, ``has_topic``);
    #: ``None``: all of the export's
    relations: list[str] | None = None
    inference_batch: int = 4096
    #: full-graph path: at most this many optimiser steps per epoch — a graph with more
    #: than ``max_steps × batch_size`` training purchases uses batches of
    #: ``ceil(purchases / max_steps)``, so an epoch costs ``max_steps`` propagations,
    #: O(edges), instead of O(edges² / batch); ``None``: always ``batch_size``
    max_steps: int | None = 64

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GATConfig:
        """Build from a dict, ignoring unknown keys (older/newer checkpoints)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    @classmethod
    def parse_overrides(cls, pairs: list[str]) -> dict[str, Any]:
        """``["layers=3", "use_text=false"]`` → ``{"layers": 3, "use_text": False}``.

        Values are JSON (``true``, ``0.01``, ``[10, 5]``, ``null``); anything else is
        kept as a string. Unknown fields raise :class:`InputError` listing the fields.
        """
        known = {f.name for f in fields(cls)}
        out: dict[str, Any] = {}
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            key = key.strip()
            if not sep or key not in known:
                raise InputError(
                    f"{pair!r} is not KEY=VALUE with a GATConfig field; "
                    f"fields: {', '.join(sorted(known))}"
                )
            try:
                out[key] = json.loads(raw)
            except json.JSONDecodeError:
                out[key] = raw.strip()
        return out


def side_edge_types(data: HeteroData, relations: list[str] | None = None) -> list[EdgeType]:
    """The export's edge types other than purchases, optionally only ``relations``."""
    keep = None if relations is None else {r for r in relations} | {f"rev_{r}" for r in relations}
    return [
        et
        for et in data.edge_types
        if et not in (PURCHASED, REV_PURCHASED) and (keep is None or et[1] in keep)
    ]


def training_graph(
    data: HeteroData, train: Interactions | None = None, relations: list[str] | None = None
) -> tuple[dict[str, torch.Tensor], dict[EdgeType, torch.Tensor]]:
    """Features and edges for message passing, with purchases limited to ``train``.

    ``train=None`` keeps every purchase of the export (inference after training);
    ``relations`` limits the side relations (see :class:`GATConfig`).
    """
    edges = {et: data[et].edge_index for et in side_edge_types(data, relations)}
    if train is None:
        pairs = data[PURCHASED].edge_index
    else:
        pairs = torch.from_numpy(np.unique(np.stack([train.users, train.items]), axis=1))
    edges[PURCHASED] = pairs
    edges[REV_PURCHASED] = pairs.flip(0)
    x = {t: data[t].x for t in data.node_types if "x" in data[t]}
    if "item" in x and "user" in x:
        # user text = mean text of the purchases in this graph (the export used all of them)
        x["user"], _ = mean_of_neighbours(pairs[0], pairs[1], x["item"], x["user"].shape[0])
    return x, edges


class GATRec(_Trained):
    """The heterogeneous GAT as a recommender (harness API: ``fit`` and ``score``).

    Args:
        data: The export (all node and edge types; purchases are replaced by ``train``).
        config: Hyper-parameters; keyword ``overrides`` replace single fields.
        device: ``None`` → CUDA when available.
    """

    def __init__(
        self,
        data: HeteroData,
        config: GATConfig | None = None,
        device: str | None = None,
        **overrides: Any,
    ) -> None:
        self.data = data
        self.config = GATConfig.from_dict({**asdict(config or GATConfig()), **overrides})
        c = self.config
        self.epochs, self.patience, self.eval_every = c.epochs, c.patience, c.eval_every
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.history: list[dict] = []
        self._cache: dict[str, torch.Tensor] | None = None
        if (c.use_text or c.text_init) and not any("x" in data[t] for t in data.node_types):
            raise InputError(
                "use_text / text_init need text features, and this export has none; run "
                "`interestgraph embed`, then `interestgraph export` (it reads the vectors)"
            )
        self.model = self._build()

    # -- model -------------------------------------------------------------------------
    def graph_meta(self) -> dict[str, Any]:
        """Node counts, feature widths and edge types the model is built for."""
        d = self.data
        edge_types = side_edge_types(d, self.config.relations)
        return {
            "num_nodes": {t: int(d[t].num_nodes) for t in d.node_types},
            "in_dims": {
                t: int(d[t].x.shape[1])
                for t in d.node_types
                if "x" in d[t] and self.config.use_text
            },
            "edge_types": [list(et) for et in [*edge_types, PURCHASED, REV_PURCHASED]],
        }

    def _build(self) -> HeteroGATEncoder:
        c, meta = self.config, self.graph_meta()
        torch.manual_seed(c.seed)
        return HeteroGATEncoder(
            meta["num_nodes"],
            meta["in_dims"],
            [tuple(et) for et in meta["edge_types"]],
            hidden=c.hidden,
            heads=c.heads,
            layers=c.layers,
            dropout=c.dropout,
            attention_dropout=c.attention_dropout,
            activation=c.activation,
            residual=c.residual,
            normalize=c.normalize,
            learn_transform=c.learn_transform,
            init_std=c.init_std,
            attention=c.attention,
            gates=None
            if c.side_gate is None
            else {et: c.side_gate for et in side_edge_types(self.data, c.relations)},
        ).to(self.device)

    def _autocast(self) -> torch.autocast:
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")

    def use_graph(self, train: Interactions | None = None) -> None:
        """Set the message-passing graph (``None``: all purchases) and drop cached output."""
        x, edges = training_graph(self.data, train, self.config.relations)
        self.x = {t: v.to(self.device) for t, v in x.items()}
        self.edges = {et: v.to(self.device) for et, v in edges.items()}
        self.sampler = None
        num = {t: self.data[t].num_nodes for t in self.data.node_types}
        if self.config.fanout:
            self.sampler = NeighborSampler(edges, num, self.config.fanout, self.config.seed)
            self.adj = None
        else:  # sorted once: every full-graph step reuses the same sparse structure
            self.adj = prepare_edges(self.edges, num)
        self._cache = None

    def _encode(
        self, seeds: dict[str, torch.Tensor] | None
    ) -> tuple[dict[str, torch.Tensor], Callable[[str, torch.Tensor], torch.Tensor]]:
        """Embeddings for a step: (rows, map from global ids to rows)."""
        outs, rows = self._encode_layers(seeds)
        return self.model.combine(outs), rows

    def _encode_layers(
        self, seeds: dict[str, torch.Tensor] | None, noise: float = 0.0
    ) -> tuple[list[dict[str, torch.Tensor]], Callable[[str, torch.Tensor], torch.Tensor]]:
        """Per-layer embeddings for a step (optionally perturbed) and the row map."""
        with self._autocast():
            if self.sampler is None or seeds is None:
                adj = self.adj if self.adj is not None else self.edges
                outs = self.model.layer_outputs(self.x, adj, noise=noise)
                return outs, lambda t, ids: ids
            sub = self.sampler.sample(seeds)
            n_id = {t: v.to(self.device) for t, v in sub.n_id.items()}
            edges = {et: v.to(self.device) for et, v in sub.edge_index.items()}
            local = prepare_edges(edges, {t: len(v) for t, v in n_id.items()})
            outs = self.model.layer_outputs(self.x, local, n_id, noise=noise)

        def rows(t: str, ids: torch.Tensor) -> torch.Tensor:
            return self.sampler.local_index(sub, t, ids).to(self.device)

        return outs, rows

    # -- training ----------------------------------------------------------------------
    def fit(self, train: Interactions, validate: Callable | None = None) -> GATRec:
        """Train with BPR (+ auxiliary follows loss); early stopping on ``validate``."""
        c = self.config
        rng = np.random.default_rng(c.seed)
        self.model = self._build()
        self.use_graph(train)
        if c.text_init:
            torch.manual_seed(c.seed)
            self.model.init_from_text(self.x, c.init_std)
        att, rest = [], []
        for name, param in self.model.named_parameters():
            (att if name.endswith(("att_src", "att_dst")) else rest).append(param)
        opt = torch.optim.Adam(
            [{"params": rest}, {"params": att, "lr": c.lr * c.attention_lr_scale}], lr=c.lr
        )
        aux = {et: self.edges[et] for et in (FOLLOWS_TOPIC, FOLLOWS_USER) if et in self.edges}
        aux = {et: e for et, e in aux.items() if e.shape[1] > 0}
        num = {t: self.data[t].num_nodes for t in self.data.node_types}

        def batch_loss(u: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
            aux_pairs = {}
            if c.aux_weight > 0:
                for et, e in aux.items():
                    pick = torch.from_numpy(rng.integers(0, e.shape[1], len(u))).to(self.device)
                    bad = torch.from_numpy(rng.integers(0, num[et[2]], len(u))).to(self.device)
                    aux_pairs[et] = (e[0, pick], e[1, pick], bad)
            seeds = {"user": u, "item": torch.cat([pos, neg])}
            for (_, _, dst), (au, ap, an) in aux_pairs.items():
                seeds["user"] = torch.cat([seeds["user"], au])
                seeds[dst] = torch.cat([seeds.get(dst, au[:0]), ap, an])
            contrast = c.cl_weight > 0 and 0 < c.cl_layer <= c.layers
            outs, rows = self._encode_layers(seeds, c.cl_noise if contrast else 0.0)
            h = self.model.combine(outs)
            ids = self.model.id_emb
            l2 = (
                ids["user"].weight[u].pow(2).sum()
                + ids["item"].weight[pos].pow(2).sum()
                + ids["item"].weight[neg].pow(2).sum()
            )
            hu = h["user"][rows("user", u)]
            loss = bpr_loss(
                dot_scores(hu, h["item"][rows("item", pos)]),
                dot_scores(hu, h["item"][rows("item", neg)]),
                l2,
                c.weight_decay,
            )
            for (_, _, dst), (au, ap, an) in aux_pairs.items():
                ha = h["user"][rows("user", au)]
                pos_s = dot_scores(ha, h[dst][rows(dst, ap)])
                neg_s = dot_scores(ha, h[dst][rows(dst, an)])
                loss = loss + c.aux_weight * bpr_loss(pos_s, neg_s, pos_s.new_zeros(()), 0.0)
            if contrast:
                view = outs[c.cl_layer]
                for t, ids_t in (("user", u), ("item", pos)):
                    r = rows(t, torch.unique(ids_t))
                    cl = info_nce(h[t][r], view[t][r], c.cl_temperature)
                    loss = loss + c.cl_weight * cl
            return loss

        batch = self.batch_size(len(train.users))
        if batch != c.batch_size:
            log.info(
                "%d training purchases: batches of %d (max_steps=%d per epoch)",
                len(train.users), batch, c.max_steps,
            )  # fmt: skip

        def step() -> float:
            self.model.train()
            self._cache = None
            return bpr_epoch(batch_loss, train, opt, batch, rng, self.device)

        self._train(self.model, step, validate)
        self._cache = None
        return self

    def batch_size(self, purchases: int) -> int:
        """Training pairs per step for ``purchases`` training purchases (see ``max_steps``)."""
        c = self.config
        if c.fanout or not c.max_steps:
            return c.batch_size
        return max(c.batch_size, -(-purchases // c.max_steps))

    # -- inference ---------------------------------------------------------------------
    def embeddings(self) -> dict[str, torch.Tensor]:
        """Node embeddings of the current graph (eval mode, cached; float32, on device)."""
        if self._cache is not None:
            return self._cache
        self.model.eval()
        with torch.no_grad():
            if self.sampler is None:
                h, _ = self._encode(None)
                self._cache = {t: v.float() for t, v in h.items()}
            else:
                self._cache = self._encode_in_chunks()
        return self._cache

    def _encode_in_chunks(self) -> dict[str, torch.Tensor]:
        out = {}
        step = self.config.inference_batch
        for t in self.data.node_types:
            n = self.data[t].num_nodes
            parts = []
            for lo in range(0, n, step):
                ids = torch.arange(lo, min(lo + step, n))
                h, rows = self._encode({t: ids})
                parts.append(h[t][rows(t, ids)].float())
            out[t] = torch.cat(parts) if parts else torch.zeros(0, self.config.hidden)
        return out

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """User · item scores for every item."""
        h = self.embeddings()
        return h["user"][users.to(self.device)] @ h["item"].T
