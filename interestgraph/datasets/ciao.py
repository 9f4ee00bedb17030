"""Ciao (Tang et al.) → canonical tables.

Mapping (all counts checked by the integration tests):

* users: every user id → 7,375 ``User`` (all of them rated something);
* items: every product id in the ratings → 105,114 ``Item``; Ciao has no product names, so
  the title is built from the category: ``"<category> product <id>"``;
* topics: the 28 categories of ``catalog_ciao.txt`` → 28 ``Topic`` (id 10 is spelled
  ``Ciao Caf?`` in the file and is restored to ``Ciao Café``);
* item_topics: distinct (product, category) pairs, weight = number of ratings → 105,219
  ``HAS_TOPIC`` (some products are listed under two or three categories);
* purchases: ``rating_with_timestamp.mat``, weight 1 per rating, ``rating``, ``helpfulness`` and
  ``ts`` (Unix seconds, day resolution) kept. The 34 ratings of 0 (outside the 1–5 scale) are
  rejected with that reason. The 1,433 repeated (user, product) pairs among the rest are
  merged by the canonical rule (weights summed → 2, latest rating and date kept) →
  282,619 ``PURCHASED``;
* follows: ``ciao/trustnetwork.mat``, directed "truster → trustee" → 111,781 ``FOLLOWS``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from interestgraph.datasets.base import Dataset, find_folder, raw_table, read_mat
from interestgraph.ingest.report import Problem

__all__ = ["load_ciao"]


def load_ciao(datasets_dir: Path) -> Dataset:
    """Read the Ciao files from ``datasets_dir`` (or its ``ciao`` subfolder)."""
    d = find_folder(datasets_dir, "ciao", "rating_with_timestamp.mat")
    r = read_mat(d / "rating_with_timestamp.mat", "rating").astype(np.int64)
    trust = read_mat(d / "ciao" / "trustnetwork.mat", "trustnetwork").astype(np.int64)
    catalog = {}
    for line in (d / "catalog_ciao.txt").read_text(encoding="ascii").splitlines():
        if line.strip():
            cid, name = line.strip().split(" ", 1)
            catalog[cid] = "Ciao Café" if name == "Ciao Caf?" else name

    ratings = pd.DataFrame(r, columns=["user", "product", "category", "rating", "help", "time"])
    ratings["row"] = np.arange(1, len(ratings) + 1)
    s = ratings.astype({"user": str, "product": str, "category": str})

    users = pd.DataFrame(
        {"user_id": sorted(set(s["user"]) | set(map(str, trust.ravel())), key=int)}
    )
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
    zero = s["rating"] == 0
    problems = [
        Problem(
            "purchases",
            "rating_with_timestamp.mat",
            int(row),
            "rating",
            "0",
            "rating 0 is outside the documented 1-5 scale",
            "none: known noise, the rating is skipped",
            row={"user_id": u, "item_id": p},
        )
        for u, p, row in s.loc[zero, ["user", "product", "row"]].itertuples(index=False)
    ]
    ok = s[~zero]
    purchases = pd.DataFrame(
        {
            "user_id": ok["user"],
            "item_id": ok["product"],
            "weight": 1.0,
            "ts": ok["time"],
            "rating": ok["rating"],
            "helpfulness": ok["help"],
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
        "users": raw_table("users", "rating_with_timestamp.mat+trustnetwork.mat", users),
        "items": raw_table("items", "rating_with_timestamp.mat", items, first["row"]),
        "topics": raw_table("topics", "catalog_ciao.txt", topics),
        "item_topics": raw_table(
            "item_topics", "rating_with_timestamp.mat", item_topics, it["line"]
        ),
        "purchases": raw_table("purchases", "rating_with_timestamp.mat", purchases, ok["row"]),
        "follows": raw_table("follows", "ciao/trustnetwork.mat", follows),
    }
    notes = [f"ciao: {int(zero.sum())} ratings of 0 skipped (see the rejects file)"]
    return Dataset("ciao", tables, problems, notes)
