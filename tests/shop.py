"""A tiny hand-written shop in canonical CSV form, and a corrupted copy with known problems."""

from __future__ import annotations

from pathlib import Path

VALID = {
    "users.csv": "user_id,segment\nu1,gold\nu2,silver\nu3,gold\n",
    "topics.csv": "topic_id,name,parent_id\nt1,Audio,\nt2,Headphones,t1\n",
    "items.csv": (
        "item_id,title,description,price\n"
        'i1,Studio headphones,"Closed-back, 40mm drivers",99.5\n'
        "i2,Bluetooth speaker,,45\n"
        "i3,Turntable,Belt drive,199\n"
    ),
    "item_topics.csv": "item_id,topic_id,weight\ni1,t2,1\ni2,t1,1\ni3,t1,0.5\n",
    "purchases.csv": (
        "user_id,item_id,weight,ts,channel\n"
        "u1,i1,1,2024-03-01T10:00:00Z,web\n"
        "u1,i1,2,2024-03-05T10:00:00Z,app\n"  # repeated pair: merged (weight 3, app, 03-05)
        "u2,i2,1,1709287200,web\n"
        "u3,i3,,2024-03-02,store\n"
    ),
    "follows.csv": (
        "user_id,followee_id,followee_type,ts\nu1,u2,user,\nu2,u1,,\nu3,t1,topic,2024-01-01\n"
    ),
}


def write_valid(folder: Path) -> Path:
    """Write the valid shop into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in VALID.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


#: (file, line, column, reason fragment) of every problem in the corrupted copy.
EXPECTED_PROBLEMS = [
    ("users.csv", 4, "user_id", "missing user_id"),
    ("users.csv", 5, "user_id", "duplicate user_id (first on line 2)"),
    ("items.csv", 4, "title", "bytes that are not valid utf-8"),
    ("items.csv", 5, None, "truncated"),
    ("item_topics.csv", 4, "item_id", "unknown Item id"),  # i3's row was the truncated one
    ("purchases.csv", 3, "ts", "not a timestamp"),
    ("purchases.csv", 4, "weight", "weight is not a positive finite number"),
    ("purchases.csv", 5, "ts", "timestamp before 1990 or in the future"),
    ("purchases.csv", 6, "item_id", "unknown Item id"),
    ("purchases.csv", 7, "user_id", "unknown User id"),
    ("follows.csv", 2, "followee_id", "a user cannot follow themselves"),
    ("follows.csv", 3, "followee_type", "followee_type must be user or topic"),
]


def write_corrupted(folder: Path) -> Path:
    """Write a copy with one problem of each kind (see EXPECTED_PROBLEMS)."""
    write_valid(folder)
    (folder / "users.csv").write_text("user_id,segment\nu1,gold\nu2,silver\n,gold\nu1,again\n")
    (folder / "items.csv").write_bytes(
        b"item_id,title,description,price\n"
        b"i1,Studio headphones,fine,99.5\n"
        b"i2,Bluetooth speaker,,45\n"
        b"i9,Caf\xe9 speaker,latin-1 byte,10\n"
        b"i3,Turntable"  # truncated: the file ends in the middle of the line
    )
    (folder / "purchases.csv").write_text(
        "user_id,item_id,weight,ts\n"
        "u1,i1,1,2024-03-01T10:00:00Z\n"
        "u1,i2,1,yesterday\n"
        "u2,i2,-3,2024-03-01\n"
        "u2,i1,1,1709287200000\n"
        "u2,i404,1,2024-03-01\n"
        "ghost,i1,1,2024-03-01\n"
    )
    (folder / "follows.csv").write_text(
        "user_id,followee_id,followee_type,ts\nu1,u1,user,\nu2,u1,friend,\nu2,u1,user,\n"
    )
    return folder
