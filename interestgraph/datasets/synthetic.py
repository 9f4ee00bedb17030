"""A seeded synthetic e-commerce graph: the embedded default's demo data.

The generative story (all draws from one ``numpy`` generator seeded by ``seed``, so the
same ``(size, seed)`` always gives the same tables):

* **topics**: a two-level hierarchy, 8 departments × 5 categories = 40 leaf topics plus
  the 8 departments (``parent_id`` links a leaf to its department);
* **items**: ``size // 10`` items, each in one leaf topic (``HAS_TOPIC`` weight 1) and, for
  30 %, a second leaf of the same department (weight 0.5); a title and description built
  from the leaf's vocabulary (so text embeddings carry the topic); a heavy-tailed
  popularity (Pareto, α = 1.2);
* **users**: ``size // 20`` users, each with 2–4 planted interest leaves and Dirichlet
  weights over them (the ground truth, returned in ``Dataset.truth``), and a log-normal
  activity level;
* **purchases**: ``size`` draws; a user by activity, a leaf by the user's interests (10 %
  uniform noise), an item in that leaf by popularity; timestamps uniform over 2024;
  repeated (user, item) draws merge by the canonical rule (weights summed);
* **follows**: homophilous: each user follows ~3 users, 80 % of them sharing the user's
  top interest; half of the users also follow their top leaf topic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from interestgraph.datasets.base import Dataset, raw_table

__all__ = ["DEPARTMENTS", "generate"]

#: department → {category: vocabulary}
DEPARTMENTS: dict[str, dict[str, list[str]]] = {
    "Electronics": {
        "Audio": ["headphones", "earbuds", "soundbar", "speaker", "turntable", "amplifier"],
        "Cameras": ["mirrorless camera", "lens", "tripod", "action camera", "flash", "gimbal"],
        "Computers": ["laptop", "monitor", "keyboard", "mouse", "docking station", "webcam"],
        "Phones": ["smartphone", "phone case", "charger", "screen protector", "power bank"],
        "Smart Home": ["smart plug", "thermostat", "doorbell camera", "smart bulb", "hub"],
    },
    "Home & Kitchen": {
        "Cookware": ["frying pan", "dutch oven", "saucepan", "wok", "baking sheet", "skillet"],
        "Coffee": ["espresso machine", "coffee grinder", "pour-over kettle", "french press"],
        "Bedding": ["duvet", "pillow", "bed sheets", "mattress topper", "weighted blanket"],
        "Furniture": ["bookshelf", "desk chair", "sofa", "side table", "floor lamp"],
        "Cleaning": ["robot vacuum", "mop", "steam cleaner", "air purifier", "dish brush"],
    },
    "Fashion": {
        "Shoes": ["sneakers", "boots", "sandals", "loafers", "trail shoes", "slippers"],
        "Outerwear": ["rain jacket", "parka", "fleece", "down vest", "trench coat"],
        "Accessories": ["leather wallet", "sunglasses", "watch", "belt", "scarf", "backpack"],
        "Knitwear": ["wool sweater", "cardigan", "beanie", "knit scarf", "turtleneck"],
        "Denim": ["slim jeans", "denim jacket", "relaxed jeans", "denim shorts"],
    },
    "Sports & Outdoors": {
        "Running": ["running shoes", "running vest", "gps watch", "running socks", "shorts"],
        "Cycling": ["road bike", "bike helmet", "bike lights", "cycling jersey", "saddle"],
        "Camping": ["tent", "sleeping bag", "camp stove", "headlamp", "trekking poles"],
        "Yoga": ["yoga mat", "yoga blocks", "yoga strap", "meditation cushion", "leggings"],
        "Swimming": ["swim goggles", "swimsuit", "swim cap", "kickboard", "fins"],
    },
    "Books": {
        "Science Fiction": ["space opera novel", "cyberpunk novel", "time travel novel"],
        "Cooking": ["baking cookbook", "vegetarian cookbook", "bbq cookbook", "pasta cookbook"],
        "History": ["world war history", "ancient rome history", "biography", "atlas"],
        "Programming": ["python book", "algorithms book", "databases book", "rust book"],
        "Children": ["picture book", "bedtime stories", "activity book", "pop-up book"],
    },
    "Beauty": {
        "Skincare": ["moisturizer", "serum", "sunscreen", "cleanser", "face mask"],
        "Haircare": ["shampoo", "conditioner", "hair dryer", "hair oil", "straightener"],
        "Fragrance": ["eau de parfum", "cologne", "body mist", "scented candle"],
        "Makeup": ["lipstick", "mascara", "foundation", "eyeshadow palette", "blush"],
        "Shaving": ["safety razor", "shaving cream", "beard oil", "electric shaver"],
    },
    "Toys & Games": {
        "Board Games": ["strategy board game", "party game", "card game", "chess set"],
        "Building Sets": ["brick set", "construction kit", "marble run", "magnetic tiles"],
        "Puzzles": ["jigsaw puzzle", "3d puzzle", "brain teaser", "puzzle mat"],
        "Outdoor Play": ["kite", "water blaster", "scooter", "frisbee", "sandbox toys"],
        "Video Games": ["game controller", "console", "racing game", "rpg game", "headset"],
    },
    "Grocery": {
        "Tea": ["green tea", "black tea", "herbal tea", "matcha", "chai"],
        "Snacks": ["trail mix", "dark chocolate", "granola bars", "popcorn", "crackers"],
        "Pantry": ["olive oil", "basmati rice", "pasta", "spice set", "honey"],
        "Beverages": ["sparkling water", "cold brew", "kombucha", "orange juice"],
        "Baking": ["bread flour", "yeast", "vanilla extract", "cocoa powder", "sprinkles"],
    },
}

_ADJECTIVES = [
    "classic", "compact", "premium", "everyday", "lightweight", "organic", "pro", "eco",
    "deluxe", "essential", "vintage", "wireless", "handmade", "travel", "ultra", "smart",
]  # fmt: skip
_BRANDS = ["Northwind", "Acme", "Bluebird", "Everfield", "Kestrel", "Lumen", "Maple & Co",
           "Orbit", "Pinecrest", "Quill", "Riverstone", "Solace", "Tidewater", "Vela"]  # fmt: skip
_EPOCH_2024 = 1_704_067_200  # 2024-01-01T00:00:00Z
_YEAR = 366 * 86_400


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-").replace("--", "-")


def generate(size: int = 20_000, seed: int = 7) -> Dataset:
    """Generate a synthetic shop with about ``size`` purchases.

    Args:
        size: Number of purchase draws (repeated user–item draws merge, so slightly fewer
            ``PURCHASED`` edges result). 20,000 loads in seconds; millions work too.
        seed: Random seed; the same seed and size give identical tables.

    Returns:
        A :class:`Dataset` whose ``truth`` holds each user's planted interests
        (``user_id, topic_id, weight``).
    """
    if size < 100:
        raise ValueError("size must be at least 100 purchases")
    rng = np.random.default_rng(seed)

    # -- topics ----------------------------------------------------------------------------
    topic_rows, leaves, vocab = [], [], []
    for dept, cats in DEPARTMENTS.items():
        dept_id = f"t-{_slug(dept)}"
        topic_rows.append({"topic_id": dept_id, "name": dept, "parent_id": None})
        for cat, words in cats.items():
            leaf_id = f"{dept_id}-{_slug(cat)}"
            topic_rows.append(
                {"topic_id": leaf_id, "name": f"{dept} / {cat}", "parent_id": dept_id}
            )
            leaves.append((leaf_id, dept_id, cat))
            vocab.append(words)
    topics = pd.DataFrame(topic_rows)
    n_leaves = len(leaves)
    per_dept = len(next(iter(DEPARTMENTS.values())))  # every department has as many leaves

    # -- items -----------------------------------------------------------------------------
    n_items = max(100, size // 10)
    leaf = rng.integers(0, n_leaves, n_items)
    popularity = rng.pareto(1.2, n_items) + 1.0
    noun = [vocab[t][rng.integers(0, len(vocab[t]))] for t in leaf]
    adj = rng.choice(_ADJECTIVES, n_items)
    brand = rng.choice(_BRANDS, n_items)
    item_ids = np.array([f"i{k:07d}" for k in range(n_items)])
    titles = [f"{b} {a} {n}" for b, a, n in zip(brand, adj, noun, strict=True)]
    descriptions = [
        f"{'An' if a[0] in 'aeiou' else 'A'} {a} {n} from {b}, part of our "
        f"{leaves[t][2].lower()} range."
        for b, a, n, t in zip(brand, adj, noun, leaf, strict=True)
    ]
    items = pd.DataFrame({"item_id": item_ids, "title": titles, "description": descriptions})
    second = rng.random(n_items) < 0.3
    # another leaf of the same department: shift the position inside the department
    alt = (leaf // per_dept) * per_dept + (
        leaf % per_dept + rng.integers(1, per_dept, n_items)
    ) % per_dept
    item_topics = pd.DataFrame(
        {
            "item_id": np.concatenate([item_ids, item_ids[second]]),
            "topic_id": [leaves[t][0] for t in leaf] + [leaves[t][0] for t in alt[second]],
            "weight": np.concatenate([np.ones(n_items), np.full(int(second.sum()), 0.5)]),
        }
    )

    # -- users and their planted interests --------------------------------------------------
    n_users = max(50, size // 20)
    user_ids = np.array([f"u{k:06d}" for k in range(n_users)])
    interest = np.zeros((n_users, n_leaves))
    k_int = rng.integers(2, 5, n_users)
    for u in range(n_users):
        chosen = rng.choice(n_leaves, k_int[u], replace=False)
        interest[u, chosen] = rng.dirichlet(np.full(k_int[u], 1.0))
    activity = rng.lognormal(0.0, 0.8, n_users)
    users = pd.DataFrame({"user_id": user_ids})
    nz = np.nonzero(interest)
    truth = pd.DataFrame(
        {
            "user_id": user_ids[nz[0]],
            "topic_id": [leaves[t][0] for t in nz[1]],
            "weight": interest[nz],
        }
    )

    # -- purchases -------------------------------------------------------------------------
    buyer = rng.choice(n_users, size, p=activity / activity.sum())
    cum = np.cumsum(interest, axis=1)
    draw = rng.random(size)
    chosen_leaf = np.minimum((cum[buyer] < draw[:, None]).sum(axis=1), n_leaves - 1)
    noise = rng.random(size) < 0.10
    chosen_leaf[noise] = rng.integers(0, n_leaves, int(noise.sum()))
    item_of = np.empty(size, dtype=np.int64)
    for t in range(n_leaves):
        members = np.flatnonzero(leaf == t)
        picks = np.flatnonzero(chosen_leaf == t)
        if len(picks) == 0:
            continue
        if len(members) == 0:  # tiny catalogues: fall back to any item
            members = np.arange(n_items)
        p = popularity[members] / popularity[members].sum()
        item_of[picks] = rng.choice(members, len(picks), p=p)
    purchases = pd.DataFrame(
        {
            "user_id": user_ids[buyer],
            "item_id": item_ids[item_of],
            "weight": (1 + rng.poisson(0.3, size)).astype(float),
            "ts": _EPOCH_2024 + rng.integers(0, _YEAR, size),
        }
    )

    # -- follows ---------------------------------------------------------------------------
    top = interest.argmax(axis=1)
    n_follow = rng.poisson(3.0, n_users)
    src, dst = [], []
    for u in range(n_users):
        peers = np.flatnonzero(top == top[u])
        for _ in range(n_follow[u]):
            pool = peers if rng.random() < 0.8 and len(peers) > 1 else np.arange(n_users)
            v = int(rng.choice(pool))
            if v != u:
                src.append(u)
                dst.append(v)
    follows_users = pd.DataFrame(
        {
            "user_id": user_ids[src],
            "followee_id": user_ids[dst],
            "followee_type": "user",
            "ts": _EPOCH_2024 + rng.integers(0, _YEAR, len(src)),
        }
    )
    fans = np.flatnonzero(rng.random(n_users) < 0.5)
    follows_topics = pd.DataFrame(
        {
            "user_id": user_ids[fans],
            "followee_id": [leaves[t][0] for t in top[fans]],
            "followee_type": "topic",
            "ts": _EPOCH_2024 + rng.integers(0, _YEAR, len(fans)),
        }
    )
    follows = pd.concat([follows_users, follows_topics], ignore_index=True)

    source = f"synthetic(size={size}, seed={seed})"
    tables = {
        "topics": raw_table("topics", source, topics),
        "users": raw_table("users", source, users),
        "items": raw_table("items", source, items),
        "item_topics": raw_table("item_topics", source, item_topics),
        "purchases": raw_table("purchases", source, purchases),
        "follows": raw_table("follows", source, follows),
    }
    return Dataset("synthetic", tables, [], [f"synthetic: {source}"], truth=truth)
