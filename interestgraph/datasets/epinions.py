"""Epinions (Tang et al., mTrust release) → canonical tables.

Mapping (counts checked by ``tests/integration/test_epinions.py``):

* users: every user id in the ratings or the trust network → 22,165 ``User`` (one of them
  only trusts, it rated nothing);
* items: every product id in the ratings → 296,277 ``Item``; Epinions has no product
  names, so the title is built from the category: ``"<category> product <id>"`` (as Ciao);
* topics: the 27 categories of ``catalog_epinion.txt`` → 27 ``Topic``;
* item_topics: distinct (product, category) pairs, weight = number of ratings → 296,877
  ``HAS_TOPIC`` (577 products are listed under two or more categories);
* purchases: the ratings of **4 or 5** (680,730 of 922,267) are the positive interactions,
  the usual implicit-feedback rule for 1–5 ratings (a 1–3 rating is not evidence of
  interest); ``rating`` is kept. 6,800 repeated (user, product) pairs among them merge by
  the canonical rule (weights summed) → 673,930 ``PURCHASED``. There are no timestamps, so
  only the ``random`` protocol applies;
* follows: ``trustnetwork.mat``, directed "truster → trustee": 224 self-loops are rejected
  by the canonical rule, 27 duplicates merge → 355,503 ``FOLLOWS``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from interestgraph.datasets.base import Dataset, find_folder, raw_table, read_mat

__all__ = ["MIN_RATING", "load_epinions"]

#: Ratings at or above this are purchases.
MIN_RATING = 4


def load_epinions(datasets_dir: Path) -> Dataset:
    """Read the Epinions files from ``datasets_dir`` (or its ``epinions`` subfolder)."""
    d = find_folder(datasets_dir, "epinions", "rating.mat")
    r = read_mat(d / "rating.mat", "rating").astype(np.int64)
    trust = read_mat(d / "trustnetwork.mat", "trustnetwork").astype(np.int64)
    catalog = {}
    for line in (d / "catalog_epinion.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            cid, name = line.strip().split(" ", 1)
            catalog[cid] = name.strip()

    ratings = pd.DataFrame(r, columns=["user", "product", "category", "rating"])
    ratings["row"] = np.arange(1, len(ratings) + 1)
    s = ratings.astype({"user": str, "product": str, "category": str})

    ids = np.union1d(r[:, 0], trust.ravel())
    users = pd.DataFrame({"user_id": ids.astype(str)})
    first = s.drop_duplicates("product")
    items = pd.DataFrame(
        {
            "item_id": first["product"],
            "title": first["category"].map(catalog) + " product " + first["product"],
        }
    )
    topics = pd.DataFrame({"topic_id": list(catalog), "name": list(catalog.values())})
    it = (
        s.groupby(["product", "category"], sort=False)
        .agg(weight=("row", "size"), line=("row", "min"))
        .reset_index()
    )
    item_topics = pd.DataFrame(
        {"item_id": it["product"], "topic_id": it["category"], "weight": it["weight"].astype(float)}
    )
    liked = s[s["rating"] >= MIN_RATING]
    purchases = pd.DataFrame(
        {
            "user_id": liked["user"],
            "item_id": liked["product"],
            "weight": 1.0,
            "rating": liked["rating"],
        }
    )
    follows = pd.DataFrame(
        {
            "user_id": trust[:, 0].astype(str),
            "followee_id": trust[:, 1].astype(str),
            "followee_type": "user",
        }
    )
    tables = {
        "users": raw_table("users", "rating.mat+trustnetwork.mat", users),
        "items": raw_table("items", "rating.mat", items, first["row"]),
        "topics": raw_table("topics", "catalog_epinion.txt", topics),
        "item_topics": raw_table("item_topics", "rating.mat", item_topics, it["line"]),
        "purchases": raw_table("purchases", "rating.mat", purchases, liked["row"]),
        "follows": raw_table("follows", "trustnetwork.mat", follows),
    }
    notes = [
        f"epinions: {len(liked):,} of {len(s):,} ratings are {MIN_RATING} or 5 and become "
        f"purchases; the {len(s) - len(liked):,} ratings of 1-3 are not interactions"
    ]
    return Dataset("epinions", tables, [], notes)
