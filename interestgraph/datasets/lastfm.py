"""Last.fm hetrec-2011 2k → canonical tables.

Mapping (all counts checked by the integration tests):

* users: every user id in the files → 1,892 ``User``;
* items: ``artists.dat`` (UTF-8), ``name`` as title, ``url`` kept → 17,632 ``Item``;
* topics: ``tags.dat`` (**Latin-1**) → 11,946 ``Topic`` (2,197 of them are never used);
* purchases: ``user_artists.dat``, weight = listen count, no timestamp → 92,834 ``PURCHASED``;
* follows (user→user): ``user_friends.dat``, already stored in both directions → 25,434
  ``FOLLOWS`` (12,717 pairs both ways);
* item_topics: ``user_taggedartists.dat`` per (artist, tag), weight = number of taggings →
  108,437 ``HAS_TOPIC``; the 1,538 taggings of the 390 artists missing from ``artists.dat`` are
  not used here;
* follows (user→topic): the user's own taggings per (user, tag), weight = number of taggings,
  ``ts`` = the latest tagging date → 35,816 ``FOLLOWS``. The 5 taggings dated before 2005
  (years 1956, 1957, 1979) count but carry no date.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from interestgraph.datasets.base import Dataset, find_folder, raw_table

__all__ = ["load_lastfm"]

_FIRST_PLAUSIBLE_YEAR = 2005


def _tsv(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        sep="\t",
        encoding=encoding,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        na_values=[],
        dtype=str,
    )
    frame["_src_line"] = np.arange(2, len(frame) + 2)  # line 1 is the header
    return frame


def load_lastfm(datasets_dir: Path) -> Dataset:
    """Read the Last.fm 2k files from ``datasets_dir`` (or its ``lastfm-2k`` subfolder)."""
    d = find_folder(datasets_dir, "lastfm-2k", "user_artists.dat")
    artists = _tsv(d / "artists.dat")
    tags = _tsv(d / "tags.dat", encoding="latin-1")
    listens = _tsv(d / "user_artists.dat")
    friends = _tsv(d / "user_friends.dat")
    tagged = _tsv(d / "user_taggedartists.dat")

    user_ids = pd.unique(
        pd.concat([listens["userID"], friends["userID"], friends["friendID"], tagged["userID"]])
    )
    users = pd.DataFrame({"user_id": sorted(user_ids, key=int)})

    items = pd.DataFrame(
        {
            "item_id": artists["id"],
            "title": artists["name"],
            "url": artists["url"].replace("", None),
        }
    )
    topics = pd.DataFrame({"topic_id": tags["tagID"], "name": tags["tagValue"]})
    purchases = pd.DataFrame(
        {"user_id": listens["userID"], "item_id": listens["artistID"], "weight": listens["weight"]}
    )
    follows_u = pd.DataFrame(
        {"user_id": friends["userID"], "followee_id": friends["friendID"], "followee_type": "user"}
    )

    year = tagged["year"].astype(int)
    date = pd.to_datetime(
        {"year": year, "month": tagged["month"].astype(int), "day": tagged["day"].astype(int)},
        utc=True,
    )
    secs = ((date - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("Int64")
    tagged["ts"] = secs.where(year >= _FIRST_PLAUSIBLE_YEAR)
    known = tagged[tagged["artistID"].isin(set(artists["id"]))]
    it = (
        known.groupby(["artistID", "tagID"], sort=False)
        .agg(weight=("userID", "size"), line=("_src_line", "min"))
        .reset_index()
    )
    item_topics = pd.DataFrame(
        {"item_id": it["artistID"], "topic_id": it["tagID"], "weight": it["weight"].astype(float)}
    )
    ut = (
        tagged.groupby(["userID", "tagID"], sort=False)
        .agg(weight=("artistID", "size"), ts=("ts", "max"), line=("_src_line", "min"))
        .reset_index()
    )
    follows_t = pd.DataFrame(
        {
            "user_id": ut["userID"],
            "followee_id": ut["tagID"],
            "followee_type": "topic",
            "weight": ut["weight"].astype(float),
            "ts": ut["ts"],
        }
    )
    follows = pd.concat([follows_u, follows_t], ignore_index=True)
    follow_lines = pd.concat([friends["_src_line"], ut["line"]], ignore_index=True)

    unknown = len(tagged) - len(known)
    notes = [
        f"lastfm: {unknown:,} tag assignments on "
        f"{tagged.loc[~tagged.index.isin(known.index), 'artistID'].nunique():,} artists missing "
        "from artists.dat are used for user→topic follows only (no HAS_TOPIC)",
        f"lastfm: {int((year < _FIRST_PLAUSIBLE_YEAR).sum())} tag assignments dated before "
        f"{_FIRST_PLAUSIBLE_YEAR} carry no timestamp",
    ]
    tables = {
        "users": raw_table("users", "user_artists.dat+user_friends.dat", users),
        "items": raw_table("items", "artists.dat", items, artists["_src_line"]),
        "topics": raw_table("topics", "tags.dat", topics, tags["_src_line"]),
        "purchases": raw_table("purchases", "user_artists.dat", purchases, listens["_src_line"]),
        "follows": raw_table(
            "follows", "user_friends.dat+user_taggedartists.dat", follows, follow_lines
        ),
        "item_topics": raw_table("item_topics", "user_taggedartists.dat", item_topics, it["line"]),
    }
    return Dataset("lastfm", tables, [], notes)
