"""1,000+ generated corruptions of a valid input folder, through the real CLI and server.

Each case copies the valid shop (``tests/shop.py``), corrupts one or two files with one to
three random operators (wrong types, huge strings, NUL bytes, invalid UTF-8, missing or
renamed columns, truncated lines, stray quotes, injection-like ids, …) and runs
``interestgraph ingest FOLDER --strict`` (every fifth case without ``--strict``). For every
case: no crash and no traceback reaches the user (exit 0, or exit 1 with a one-line error
that names a file); in strict mode a failed run leaves the graph exactly as it was (not one
property changed); a successful run stores every id verbatim. Cases are seeded: a failure
names its seed and operators, and ``FUZZ_CASES`` / ``FUZZ_SEED`` reproduce or extend a run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import shutil

import pytest
from click.testing import CliRunner

from interestgraph.cli import cli
from tests.integration.test_cli import _env
from tests.shop import VALID, write_valid

pytestmark = pytest.mark.slow

CASES = int(os.environ.get("FUZZ_CASES", "1000"))
SEED = int(os.environ.get("FUZZ_SEED", "20261129"))

NASTY = [
    "", " ", "abc", "-1", "0", "NaN", "inf", "-inf", "1e309", "9" * 40, "x" * 100_000,
    "a\x00b", "\x00", "'}) DETACH DELETE n //", '"}) DETACH DELETE n //', "$rows", "`User`",
    "u1\nu2", "2024-13-45", "1709287200000000", "🙂", "\u202e", "null", "None", "TRUE",
    "  u1  ", "u1,u2", "\t", "\\", "{}", "[1, 2]", "1.5", "-0", "0x1F", "Robert'); --",
    "MATCH (n) DETACH DELETE n", "ü" * 300, "\r", "user", "topic",
]  # fmt: skip
ID_COLUMNS = {"users.csv": "user_id", "items.csv": "item_id", "topics.csv": "topic_id"}


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8", "surrogatepass")


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One random corruption of a CSV file's bytes; returns the bytes and its name."""
    op = rng.choice(
        ["value", "value", "value", "bad_utf8", "nul", "flip", "truncate", "drop_line",
         "dup_line", "drop_column", "rename_column", "extra_column", "no_header", "quote",
         "bom_crlf", "semicolon", "empty", "header_only"]
    )  # fmt: skip
    text = data.decode("utf-8", "surrogateescape")
    lines = text.splitlines(keepends=True)
    if op == "value":
        try:
            rows = _rows(data.decode("utf-8"))
        except (UnicodeDecodeError, csv.Error):
            return data + b"\n,,,\n", "value->garbage_line"
        if not rows:
            return data, "value(empty)"
        r = rng.randrange(len(rows))
        if rows[r]:
            rows[r][rng.randrange(len(rows[r]))] = rng.choice(NASTY)
        return _csv(rows), f"value(row {r})"
    if op == "bad_utf8":
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.choice([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xe2\x82"]) + data[
            at:
        ], op
    if op == "nul":
        at = rng.randrange(len(data) + 1)
        return data[:at] + b"\x00" + data[at:], op
    if op == "flip" and data:
        at = rng.randrange(len(data))
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :], op
    if op == "truncate" and data:
        return data[: rng.randrange(len(data))], op
    if op in ("drop_line", "dup_line") and len(lines) > 1:
        i = rng.randrange(1, len(lines))
        extra = [lines[i]] if op == "dup_line" else []
        return "".join(lines[:i] + extra + lines[i + 1 :]).encode("utf-8", "surrogateescape"), op
    if op in ("drop_column", "rename_column", "extra_column"):
        try:
            rows = _rows(data.decode("utf-8"))
        except (UnicodeDecodeError, csv.Error):
            return data, op + "(skipped)"
        if not rows or not rows[0]:
            return data, op + "(empty)"
        c = rng.randrange(len(rows[0]))
        if op == "drop_column":
            rows = [[v for j, v in enumerate(r) if j != c] for r in rows]
        elif op == "rename_column":
            rows[0][c] = rng.choice(["", "id", rows[0][c].upper(), rows[0][c] + " ", "x"])
        else:
            rows = [
                r + ([rng.choice(["extra", ""])] if i else ["extra"]) for i, r in enumerate(rows)
            ]
        return _csv(rows), op
    if op == "no_header" and lines:
        return "".join(lines[1:]).encode("utf-8", "surrogateescape"), op
    if op == "quote":
        at = rng.randrange(len(text) + 1)
        return (text[:at] + '"' + text[at:]).encode("utf-8", "surrogateescape"), op
    if op == "bom_crlf":
        return b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"), op
    if op == "semicolon":
        return data.replace(b",", b";", 1 + rng.randrange(3)), op
    if op == "empty":
        return b"", op
    if op == "header_only" and lines:
        return lines[0].encode("utf-8", "surrogateescape"), op
    return data, op + "(no-op)"


def snapshot(store) -> str:
    """Digest of every node and relationship with all properties (the graph is small)."""
    rows = store.read(
        "MATCH (n) OPTIONAL MATCH (n)-[r]->(m) "
        "RETURN labels(n) AS l, properties(n) AS p, type(r) AS t, properties(r) AS rp, "
        "elementId(m) IS NOT NULL AS has_m, "
        "coalesce(m.user_id, m.item_id, m.topic_id) AS m"
    )
    lines = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def stored_verbatim(store, folder) -> list[str]:
    """Ids of the folder's node files that the graph does not hold exactly as written."""
    missing = []
    for name, col in ID_COLUMNS.items():
        path = folder / name
        if not path.exists():
            continue
        raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(raw, newline="")))
        ids = sorted({r[col] for r in rows if r.get(col)})
        label = {"user_id": "User", "item_id": "Item", "topic_id": "Topic"}[col]
        found = store.read(
            f"MATCH (n:{label}) WHERE n.{col} IN $ids RETURN collect(n.{col}) AS f", {"ids": ids}
        )[0]["f"]
        missing += sorted(set(ids) - set(found))
    return missing


def test_fuzzed_inputs_never_crash_never_half_write_and_keep_ids_verbatim(
    neo4j_server, store, tmp_path
):
    env = _env(neo4j_server.settings)
    runner = CliRunner()
    base = write_valid(tmp_path / "valid")
    res = runner.invoke(cli, ["-q", "ingest", str(base), "--strict"], env=env)
    assert res.exit_code == 0, res.output
    tally = {"cases": 0, "refused": 0, "loaded": 0, "strict": 0, "half_written": 0}
    for case in range(CASES):
        rng = random.Random(SEED + case)
        folder = tmp_path / "case"
        shutil.rmtree(folder, ignore_errors=True)
        write_valid(folder)
        ops = []
        for name in rng.sample(sorted(VALID), rng.choice([1, 1, 2])):
            data = (folder / name).read_bytes()
            for _ in range(rng.choice([1, 1, 2, 3])):
                data, op = mutate(data, rng)
                ops.append(f"{name}:{op}")
            (folder / name).write_bytes(data)
        strict = case % 5 != 0
        args = ["-q", "ingest", str(folder), "--rejects", str(tmp_path / "rejects.csv")]
        args += ["--strict"] if strict else []
        before = snapshot(store) if strict else None
        res = runner.invoke(cli, args, env=env)
        where = f"case {case} (FUZZ_SEED={SEED}, seed {SEED + case}): {ops}"
        assert res.exception is None or isinstance(res.exception, SystemExit), (
            where,
            repr(res.exception),
        )
        assert "Traceback" not in res.output, where
        assert res.exit_code in (0, 1), (where, res.exit_code, res.output[-500:])
        tally["cases"] += 1
        tally["strict"] += strict
        if res.exit_code == 1:
            tally["refused"] += 1
            first = res.output.strip().splitlines()[0]
            assert first.startswith("Error:") and ".csv" in res.output, (where, first)
            if strict:
                same = snapshot(store) == before
                tally["half_written"] += not same
                assert same, (where, "strict run failed but changed the graph")
        else:
            tally["loaded"] += 1
            if strict:
                assert stored_verbatim(store, folder) == [], where
    print(f"\nfuzz: {tally}")
    assert tally["cases"] == CASES >= 1000 or "FUZZ_CASES" in os.environ
    assert tally["refused"] > CASES // 3 and tally["loaded"] > 0  # the operators bite
