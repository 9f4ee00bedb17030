"""GAT pieces without a database: sampler, top-K inference, checkpoint, curve, paths."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from interestgraph.errors import InputError
from interestgraph.gnn.baselines import Interactions
from interestgraph.gnn.checkpoint import load_checkpoint, save_checkpoint
from interestgraph.gnn.curve import write_curve
from interestgraph.gnn.infer import Inference, infer, top_k
from interestgraph.gnn.model import info_nce
from interestgraph.gnn.sampler import NeighborSampler
from interestgraph.gnn.train import GATConfig, GATRec


def planted_graph(users: int = 60, items: int = 40, topics: int = 4, seed: int = 0) -> HeteroData:
    """Users buy mostly from their group's item block; items carry their block's topic."""
    g = torch.Generator().manual_seed(seed)
    data = HeteroData()
    data["user"].num_nodes, data["item"].num_nodes, data["topic"].num_nodes = users, items, topics
    block = items // topics
    u_group = torch.arange(users) % topics
    src, dst = [], []
    for u in range(users):
        picks = u_group[u] * block + torch.randperm(block, generator=g)[:6]
        src += [u] * 6
        dst += picks.tolist()
    buy = torch.tensor([src, dst])
    data["user", "purchased", "item"].edge_index = buy
    data["item", "rev_purchased", "user"].edge_index = buy.flip(0)
    has = torch.stack([torch.arange(items), torch.arange(items) // block])
    data["item", "has_topic", "topic"].edge_index = has
    data["topic", "rev_has_topic", "item"].edge_index = has.flip(0)
    fol = torch.stack([torch.arange(users), u_group])
    data["user", "follows", "topic"].edge_index = fol
    data["topic", "rev_follows", "user"].edge_index = fol.flip(0)
    data["item"].x = torch.randn(items, 8, generator=g)
    data["topic"].x = torch.randn(topics, 8, generator=g)
    data["user"].x = torch.zeros(users, 8)
    return data


def interactions(data: HeteroData) -> Interactions:
    u, i = data["user", "purchased", "item"].edge_index.numpy()
    return Interactions(u, i, data["user"].num_nodes, data["item"].num_nodes)


def test_sampler_draws_existing_edges_within_fanout_and_keeps_seeds():
    data = planted_graph()
    edges = {et: data[et].edge_index for et in data.edge_types}
    num = {t: data[t].num_nodes for t in data.node_types}
    sampler = NeighborSampler(edges, num, [3, 2], seed=1)
    seeds = {"user": torch.tensor([5, 2, 5]), "item": torch.tensor([7])}
    sub = sampler.sample(seeds)
    assert sub.n_id["user"][:2].tolist() == [2, 5] and sub.n_id["item"][0] == 7
    for et, ei in sub.edge_index.items():
        glob = torch.stack([sub.n_id[et[0]][ei[0]], sub.n_id[et[2]][ei[1]]])
        real = set(map(tuple, edges[et].T.tolist()))
        assert set(map(tuple, glob.T.tolist())) <= real, et
        # hop 1 draws at most 3 per seed; hop 2 at most 2 per frontier node
        per_dst = torch.bincount(ei[1])
        assert int(per_dst.max()) <= 3 + 2, et
    assert sampler.local_index(sub, "user", torch.tensor([5])).tolist() == [1]
    with pytest.raises(ValueError, match="not in the subgraph"):
        absent = sorted(set(range(60)) - set(sub.n_id["user"].tolist()))[0]
        sampler.local_index(sub, "user", torch.tensor([absent]))


def test_top_k_matches_brute_force_with_exclusions():
    g = torch.Generator().manual_seed(0)
    q, c = torch.randn(7, 4, generator=g), torch.randn(9, 4, generator=g)
    exclude = [np.array([0, 1]), np.zeros(0, np.int64)] + [np.array([8])] * 5
    got = top_k(q, c, 3, exclude=exclude, chunk=2)
    s = (q @ c.T).numpy()
    for r in range(7):
        s[r, exclude[r]] = -np.inf
        want = np.argsort(-s[r])[:3]
        assert got.index[r].tolist() == want.tolist()
        assert np.allclose(got.score[r], s[r, want], atol=1e-6)
    few = top_k(q[:1], c[:2], 4)
    assert few.index[0, 2:].tolist() == [-1, -1] and np.isnan(few.score[0, 2:]).all()
    selfless = top_k(q, q, 2, exclude_self=True)
    assert all(r not in selfless.index[r] for r in range(7))


@pytest.mark.parametrize("cl_weight", [0.0, 0.2], ids=["bpr", "bpr+contrastive"])
def test_gat_learns_planted_blocks_full_graph_and_mini_batch(tmp_path, cl_weight):
    data = planted_graph()
    train = interactions(data)
    for fanout in ([], [4, 4]):
        rec = GATRec(
            data, device="cpu", epochs=40, batch_size=64, lr=1e-2, fanout=fanout,
            cl_weight=cl_weight,
        )  # fmt: skip
        rec.fit(train)
        h = rec.embeddings()
        s = (h["user"] @ h["item"].T).numpy()
        block = 10
        own = np.array([s[u, (u % 4) * block : (u % 4 + 1) * block].mean() for u in range(60)])
        other = np.array(
            [
                np.delete(s[u], np.arange((u % 4) * block, (u % 4 + 1) * block)).mean()
                for u in range(60)
            ]
        )
        assert (own > other).mean() > 0.9, fanout


def test_info_nce_prefers_matching_rows_and_noise_is_training_only():
    a = torch.eye(4)
    matched = info_nce(a, a, 0.2)
    shuffled = info_nce(a, a[[1, 2, 3, 0]], 0.2)
    # hand-computed: matching rows give logits 5 on the diagonal, 0 elsewhere
    assert matched.item() == pytest.approx(-np.log(np.e**5 / (np.e**5 + 3)), rel=1e-5)
    assert shuffled.item() > matched.item()
    rec = GATRec(planted_graph(), device="cpu", cl_weight=0.2, cl_noise=0.5)
    rec.use_graph(interactions(rec.data))
    rec.model.eval()  # no attention dropout: the noise is the only difference
    outs, _ = rec._encode_layers(None, noise=0.5)
    clean, _ = rec._encode_layers(None)
    assert not torch.allclose(outs[1]["user"], clean[1]["user"])
    # the perturbation has length 0.5 and keeps each coordinate's sign
    delta = outs[1]["item"] - clean[1]["item"]
    assert torch.allclose(delta.norm(dim=-1), torch.full((40,), 0.5), atol=1e-5)
    assert (delta * clean[1]["item"] >= 0).all()
    first = rec.embeddings()["user"].clone()
    rec._cache = None
    assert torch.equal(first, rec.embeddings()["user"])


def test_checkpoint_round_trip_gives_identical_scores_and_refuses_other_graphs(tmp_path):
    data = planted_graph()
    rec = GATRec(data, device="cpu", epochs=3, batch_size=64, eval_every=1)
    rec.fit(interactions(data), validate=lambda m: 0.5)
    rec.use_graph(None)
    users = torch.arange(10)
    before = rec.score(users)
    save_checkpoint(tmp_path / "ck", rec, export={"text_model": "m"}, metrics={"x": 1})
    back = load_checkpoint(tmp_path / "ck", data, device="cpu")
    assert torch.equal(back.score(users), before)
    assert back.config == rec.config and back.history == rec.history
    with pytest.raises(InputError, match="num_nodes"):
        load_checkpoint(tmp_path / "ck", planted_graph(users=61), device="cpu")
    with pytest.raises(InputError, match="no checkpoint"):
        load_checkpoint(tmp_path, data)


def test_config_ignores_unknown_keys_and_overrides_apply():
    c = GATConfig.from_dict({"hidden": 8, "from_the_future": 1})
    assert c.hidden == 8
    rec = GATRec(planted_graph(), c, device="cpu", heads=2)
    assert rec.config.heads == 2 and rec.config.hidden == 8


def test_curve_is_valid_svg_with_the_best_epoch_marked(tmp_path):
    hist = [{"epoch": e, "loss": 1 / e, "val": v} for e, v in [(1, 0.1), (2, 0.3), (3, 0.2)]]
    path = write_curve(hist, tmp_path / "c.svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert "best 0.3000 @ 2" in path.read_text()


def test_inference_lists_exclude_purchases_and_self_and_round_trip(tmp_path):
    g = torch.Generator().manual_seed(1)
    emb = {t: torch.randn(n, 4, generator=g) for t, n in [("user", 5), ("item", 6), ("topic", 3)]}
    bought = [np.array([0, 1])] * 5
    res = infer(emb, bought, k=3)
    assert set(res.lists) == {"user_items", "item_items", "user_topics", "user_users"}
    assert not np.isin(res.lists["user_items"].index, [0, 1]).any()
    assert all(r not in res.lists["item_items"].index[r] for r in range(6))
    res.save(tmp_path / "inf.pt")
    back = Inference.load(tmp_path / "inf.pt")
    assert np.array_equal(back.lists["user_users"].index, res.lists["user_users"].index)
    assert np.array_equal(back.embeddings["item"], res.embeddings["item"])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_gat_trains_on_cuda_with_bf16_autocast():
    data = planted_graph()
    rec = GATRec(data, device="cuda", epochs=40, batch_size=64, lr=1e-2)
    rec.fit(interactions(data))
    h = rec.embeddings()
    assert h["user"].is_cuda and h["user"].dtype == torch.float32
    s = (h["user"] @ h["item"].T).cpu().numpy()
    own = np.array([s[u, (u % 4) * 10 : (u % 4 + 1) * 10].mean() for u in range(60)])
    assert (own > s.mean(1)).mean() > 0.9


def test_uniform_attention_with_identity_maps_is_exactly_lightgcn():
    from torch_geometric.nn.models import LightGCN

    from interestgraph.gnn.model import HeteroGATEncoder

    torch.manual_seed(0)
    nu, ni = 30, 20
    pairs = torch.unique(
        torch.stack([torch.randint(0, nu, (100,)), torch.randint(0, ni, (100,))]), dim=1
    )
    buy, rev = ("user", "purchased", "item"), ("item", "rev_purchased", "user")
    enc = HeteroGATEncoder(
        {"user": nu, "item": ni},
        {},
        [buy, rev],
        layers=2,
        attention="uniform",
        learn_transform=False,
    )
    h = enc({}, {buy: pairs, rev: pairs.flip(0)})
    ref_model = LightGCN(nu + ni, 64, 2)
    with torch.no_grad():
        ref_model.embedding.weight.copy_(
            torch.cat([enc.id_emb["user"].weight, enc.id_emb["item"].weight])
        )
    shifted = torch.stack([pairs[0], pairs[1] + nu])
    ref = ref_model.get_embedding(torch.cat([shifted, shifted.flip(0)], 1))
    assert torch.allclose(h["user"], ref[:nu], atol=1e-5)
    assert torch.allclose(h["item"], ref[nu:], atol=1e-5)
    # with attention learned, the first step starts elsewhere (random attention vectors)
    learned = HeteroGATEncoder({"user": nu, "item": ni}, {}, [buy, rev], layers=2)
    with torch.no_grad():
        for t in ("user", "item"):
            learned.id_emb[t].weight.copy_(enc.id_emb[t].weight)
    assert not torch.allclose(learned({}, {buy: pairs, rev: pairs.flip(0)})["user"], h["user"])


def test_parse_overrides_types_values_and_names_the_fields_on_a_typo():
    got = GATConfig.parse_overrides(["layers=3", "use_text=false", "fanout=[10, 5]", "lr=1e-3"])
    assert got == {"layers": 3, "use_text": False, "fanout": [10, 5], "lr": 0.001}
    assert GATConfig.from_dict(got).layers == 3
    with pytest.raises(InputError, match=r"'layer=3' is not KEY=VALUE.*fields: .*layers"):
        GATConfig.parse_overrides(["layer=3"])
    with pytest.raises(InputError, match="not KEY=VALUE"):
        GATConfig.parse_overrides(["layers"])


def test_text_init_starts_id_embeddings_at_the_text_geometry():
    data = planted_graph()
    rec = GATRec(data, device="cpu", text_init=True, hidden=16)
    rec.use_graph(interactions(data))
    assert rec.model.init_from_text(rec.x, 0.1) == ["user", "item", "topic"]
    w = rec.model.id_emb["item"].weight.detach()
    assert w.std().item() == pytest.approx(0.1, rel=0.2)
    # 8-d text, 16-d embeddings: the first 8 columns are a rotation of the centred text,
    # so pairwise distances match the text's up to one scale
    x = data["item"].x - data["item"].x.mean(0)
    d_text, d_emb = torch.cdist(x, x).flatten(), torch.cdist(w[:, :8], w[:, :8]).flatten()
    assert torch.corrcoef(torch.stack([d_text, d_emb]))[0, 1] > 0.99


def test_an_unknown_attention_mode_is_refused():
    with pytest.raises(ValueError, match="attention='unifrom'"):
        GATRec(planted_graph(), device="cpu", attention="unifrom")
