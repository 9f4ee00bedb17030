"""The incumbent's recipe as baselines: Neo4j Graph Data Science FastRP (+ KNN), in the server.

A Neo4j shop that wants recommendations today runs FastRP and KNN inside the server. These
two baselines run exactly that, through the same harness as every other model:

* ``GDS-FastRP``: FastRP embeddings of users and items; ``score(u, i) = e_u · e_i``
  (``dot``) or the cosine of the two (``cosine``);
* ``GDS-FastRP-KNN``: GDS's KNN over the users' FastRP embeddings (cosine, its default);
  ``score(u, i) = Σ_v sim(u, v) · [v bought i]`` over the ``top_k`` most similar users ``v``:
  what similar users bought, weighted by similarity (the user-KNN write-back recipe).

What GDS sees (:class:`TrainingProjection`): a Cypher projection built from the training
pairs the harness hands to ``fit`` (plus the user→user follows, which no interaction
derives from), with integer node ids (users ``0..U-1``, items ``U..U+I-1``), undirected.
It is never built from the database's ``PURCHASED`` edges, which also hold the validation
and test pairs. The projection has a name made for the call and is dropped when the fit
ends, failed or not.

Tuning (:data:`FASTRP_GRID`): every model gets the same budget of 24 trials, chosen on the
harness' validation Recall@20 (the test split is not read): 12 FastRP settings (embedding
dimension × iteration weights × normalisation strength) times two values of the
model's own knob (``dot``/``cosine`` scoring; KNN ``top_k`` 10/50).

Costs: the projection sends the training pairs as two integer lists in one query
(parameters grow with the purchases); embeddings come back in chunks of ``chunk`` nodes
through ``gds.util.nodeProperty``; KNN's neighbour lists (users × top_k) come back in one
record. FastRP is linear in relationships × dimension; GDS's KNN samples candidates
(NN-descent), roughly linear in users × top_k per iteration. Scoring is dense per batch of
users, like every model of the harness.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from interestgraph.gnn.baselines import Interactions
from interestgraph.graphstore import GraphStore

__all__ = [
    "FASTRP_GRID",
    "GDS_MODELS",
    "KNN_TOP_K",
    "SCORINGS",
    "FastRPConfig",
    "GdsFastRP",
    "GdsFastRPKNN",
    "TrainingProjection",
    "gds_models",
]

log = logging.getLogger(__name__)

#: GDS's open edition runs at most four threads.
CONCURRENCY = 4


@dataclass(frozen=True)
class FastRPConfig:
    """One FastRP setting (GDS's parameter names in snake case)."""

    embedding_dimension: int = 256
    iteration_weights: tuple[float, ...] = (0.0, 1.0, 1.0, 1.0)
    normalization_strength: float = 0.0
    random_seed: int = 42

    def gds(self, mutate_property: str) -> dict[str, Any]:
        """The configuration map of ``gds.fastRP.mutate``."""
        return {
            "embeddingDimension": self.embedding_dimension,
            "iterationWeights": list(self.iteration_weights),
            "normalizationStrength": self.normalization_strength,
            "randomSeed": self.random_seed,
            "mutateProperty": mutate_property,
            "concurrency": CONCURRENCY,
        }


#: The FastRP settings every GDS baseline searches (on validation only).
FASTRP_GRID: tuple[FastRPConfig, ...] = tuple(
    FastRPConfig(dim, weights, norm)
    for dim in (128, 256)
    for weights in ((0.0, 1.0, 1.0), (1.0, 1.0, 1.0, 1.0), (0.0, 1.0, 1.0, 1.0, 1.0))
    for norm in (0.0, -0.5)
)
#: GDS-FastRP's own knob: how a user's and an item's embedding give a score.
SCORINGS = ("dot", "cosine")
#: GDS-FastRP-KNN's own knob: how many similar users vote.
KNN_TOP_K = (10, 50)


class TrainingProjection:
    """An in-memory GDS graph of the training pairs (and follows), dropped on ``close``.

    Args:
        store: An open store on a server with GDS.
        train: The harness' training interactions (the only purchases projected).
        follows: Optional ``(src, dst)`` user index arrays (user→user follows).
        chunk: Nodes per query when reading embeddings back.
    """

    def __init__(
        self,
        store: GraphStore,
        train: Interactions,
        follows: tuple[np.ndarray, np.ndarray] | None = None,
        *,
        chunk: int = 20_000,
    ) -> None:
        self.store, self.chunk = store, chunk
        self.num_users, self.num_items = train.num_users, train.num_items
        self.name = f"interestgraph-fastrp-{uuid.uuid4().hex[:12]}"
        src = [np.asarray(train.users, np.int64)]
        dst = [np.asarray(train.items, np.int64) + self.num_users]
        if follows is not None and len(follows[0]):
            src.append(np.asarray(follows[0], np.int64))
            dst.append(np.asarray(follows[1], np.int64))
        s, t = np.concatenate(src), np.concatenate(dst)
        self.nodes = np.unique(np.concatenate([s, t]))
        t0 = time.perf_counter()
        rows = store.read(
            "UNWIND range(0, size($s) - 1) AS k "
            "WITH $s[k] AS a, $t[k] AS b "
            "WITH gds.graph.project($name, a, b, {"
            "  sourceNodeLabels: CASE WHEN a < $users THEN 'User' ELSE 'Item' END,"
            "  targetNodeLabels: CASE WHEN b < $users THEN 'User' ELSE 'Item' END"
            "}, {undirectedRelationshipTypes: ['*']}) AS g "
            "RETURN g.nodeCount AS nodes, g.relationshipCount AS relationships",
            {"s": s.tolist(), "t": t.tolist(), "name": self.name, "users": self.num_users},
            op="gds.project",
        )
        self.node_count = int(rows[0]["nodes"])
        self.relationship_count = int(rows[0]["relationships"])
        self.project_seconds = time.perf_counter() - t0
        self._properties = 0

    def __enter__(self) -> TrainingProjection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the projection (idempotent)."""
        self.store.read(
            "CALL gds.graph.drop($name, false) YIELD graphName RETURN graphName",
            {"name": self.name},
            op="gds.drop",
        )

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every projected relationship as ``(source, target)`` ids (for leak checks)."""
        cols = self.store.read_columns(
            "CALL gds.graph.relationships.stream($name) YIELD sourceNodeId, targetNodeId "
            "RETURN collect(sourceNodeId) AS s, collect(targetNodeId) AS t",
            {"name": self.name},
            op="gds.pairs",
        )
        return np.asarray(cols["s"][0], np.int64), np.asarray(cols["t"][0], np.int64)

    def fastrp(self, config: FastRPConfig) -> tuple[str, np.ndarray]:
        """Run FastRP into a new node property; return its name and ``[U + I, dim]`` values.

        Nodes without any training edge (never projected) get zero rows.
        """
        prop = f"fastrp{self._properties}"
        self._properties += 1
        self.store.read(
            "CALL gds.fastRP.mutate($name, $config) YIELD nodePropertiesWritten "
            "RETURN nodePropertiesWritten",
            {"name": self.name, "config": config.gds(prop)},
            op="gds.fastrp",
        )
        out = np.zeros((self.num_users + self.num_items, config.embedding_dimension), np.float32)
        for lo in range(0, len(self.nodes), self.chunk):
            ids = self.nodes[lo : lo + self.chunk]
            cols = self.store.read_columns(
                "UNWIND $ids AS id RETURN collect(gds.util.nodeProperty($name, id, $p)) AS v",
                {"ids": ids.tolist(), "name": self.name, "p": prop},
                op="gds.fastrp.read",
            )
            out[ids] = np.asarray(cols["v"][0], np.float32)
        return prop, out

    def drop_property(self, prop: str) -> None:
        """Free a node property of the projection."""
        self.store.read(
            "CALL gds.graph.nodeProperties.drop($name, [$p]) YIELD propertiesRemoved "
            "RETURN propertiesRemoved",
            {"name": self.name, "p": prop},
            op="gds.drop_property",
        )

    def user_knn(self, prop: str, top_k: int, seed: int = 42) -> sp.csr_matrix:
        """GDS KNN among users on ``prop``: a ``[U, U]`` matrix of similarities, top_k per row.

        ``randomSeed`` makes GDS's sampled KNN deterministic (it then runs single-threaded).
        """
        cols = self.store.read_columns(
            "CALL gds.knn.stream($name, {nodeLabels: ['User'], nodeProperties: [$p], "
            "  topK: $k, randomSeed: $seed, concurrency: 1}) "
            "YIELD node1, node2, similarity "
            "RETURN collect(node1) AS s, collect(node2) AS t, collect(similarity) AS w",
            {"name": self.name, "p": prop, "k": top_k, "seed": seed},
            op="gds.knn",
        )
        s, t = np.asarray(cols["s"][0], np.int64), np.asarray(cols["t"][0], np.int64)
        w = np.asarray(cols["w"][0], np.float32)
        n = self.num_users
        return sp.csr_matrix((w, (s, t)), shape=(n, n))


class _GdsBaseline:
    """Shared search loop: every trial is scored by ``validate`` and the best one is kept."""

    name = ""

    def __init__(
        self,
        store: GraphStore,
        follows: tuple[np.ndarray, np.ndarray] | None = None,
        *,
        grid: tuple[FastRPConfig, ...] = FASTRP_GRID,
    ) -> None:
        self.store, self.follows, self.grid = store, follows, grid
        self.trials: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {}

    def _knobs(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _trial(self, graph: TrainingProjection, prop: str, emb: np.ndarray, knob: Any) -> None:
        raise NotImplementedError

    def _state(self) -> Any:
        raise NotImplementedError

    def _restore(self, state: Any) -> None:
        raise NotImplementedError

    def fit(self, train: Interactions, validate: Callable | None = None) -> _GdsBaseline:
        """Project ``train``, run every trial, keep the one best on validation Recall@20."""
        self.train = train
        best_score, best_state = -1.0, None
        t0 = time.perf_counter()
        with TrainingProjection(self.store, train, self.follows) as graph:
            self.projection = {"nodes": graph.node_count, "relationships": graph.relationship_count,
                               "seconds": round(graph.project_seconds, 2)}  # fmt: skip
            for config in self.grid:
                t1 = time.perf_counter()
                prop, emb = graph.fastrp(config)
                embed_seconds = time.perf_counter() - t1
                for knob in self._knobs():
                    self._trial(graph, prop, emb, knob)
                    score = validate(self) if validate is not None else 0.0
                    trial = {**asdict(config), "knob": knob, "val_recall@20": round(score, 4),
                             "fastrp_seconds": round(embed_seconds, 2)}  # fmt: skip
                    self.trials.append(trial)
                    log.info("%s %s: validation recall@20 %.4f", self.name, trial, score)
                    if score > best_score:
                        best_score, best_state, self.best = score, self._state(), trial
                graph.drop_property(prop)
        self._restore(best_state)
        self.fit_seconds = time.perf_counter() - t0
        return self


class GdsFastRP(_GdsBaseline):
    """FastRP user and item embeddings from GDS; inner-product (or cosine) scores."""

    name = "GDS-FastRP"

    def _knobs(self) -> tuple[Any, ...]:
        return SCORINGS

    def _trial(self, graph: TrainingProjection, prop: str, emb: np.ndarray, knob: Any) -> None:
        if knob == "cosine":
            emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        self.users_emb = torch.from_numpy(emb[: graph.num_users])
        self.items_emb = torch.from_numpy(emb[graph.num_users :])

    def _state(self) -> Any:
        return self.users_emb, self.items_emb

    def _restore(self, state: Any) -> None:
        self.users_emb, self.items_emb = state

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """``e_u · e_i`` for every item."""
        return self.users_emb[users] @ self.items_emb.T


class GdsFastRPKNN(_GdsBaseline):
    """GDS KNN over users' FastRP embeddings; what the similar users bought, weighted."""

    name = "GDS-FastRP-KNN"

    def _knobs(self) -> tuple[Any, ...]:
        return KNN_TOP_K

    def fit(self, train: Interactions, validate: Callable | None = None) -> GdsFastRPKNN:
        """Search FastRP settings × ``top_k`` on validation (see :class:`_GdsBaseline`)."""
        self._bought = train.matrix()
        super().fit(train, validate)
        return self

    def _trial(self, graph: TrainingProjection, prop: str, emb: np.ndarray, knob: Any) -> None:
        self.similar = graph.user_knn(prop, int(knob))

    def _state(self) -> Any:
        return self.similar

    def _restore(self, state: Any) -> None:
        self.similar = state

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """``Σ_v sim(u, v) · [v bought i]`` over u's nearest users."""
        rows = self.similar[users.numpy()] @ self._bought
        return torch.from_numpy(np.asarray(rows.todense(), dtype=np.float32))


def follows_of(data: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The user→user follow edges of an export, or None when it has none."""
    key = ("user", "follows", "user")
    if key not in data.edge_types:
        return None
    src, dst = data[key].edge_index.numpy()
    return src, dst


#: Names of the GDS baselines (they need a server: :func:`gds_models`).
GDS_MODELS = ("GDS-FastRP", "GDS-FastRP-KNN")


def gds_models(
    store: GraphStore, grid: tuple[FastRPConfig, ...] = FASTRP_GRID
) -> dict[str, Callable[[Any], _GdsBaseline]]:
    """Harness factories (export → fresh model) of the two GDS baselines on ``store``."""
    return {
        GdsFastRP.name: lambda data: GdsFastRP(store, follows_of(data), grid=grid),
        GdsFastRPKNN.name: lambda data: GdsFastRPKNN(store, follows_of(data), grid=grid),
    }
