"""Security against the real server: credentials never in output, logs or errors; secret
files are owner-only. (Read-only library queries: ``lastfm/test_lastfm_queries.py``; the HTTP
API's token: ``lastfm/test_lastfm_service.py``; parameters only: ``unit/test_security_unit``.)
"""

from __future__ import annotations

import os
import stat

from click.testing import CliRunner

from interestgraph.cli import cli
from interestgraph.graphstore.credentials import password_file, read_password
from interestgraph.service.auth import api_token, token_file
from tests.conftest import free_port
from tests.integration.test_cli import _env


def test_credentials_never_appear_in_cli_output_or_errors(neo4j_server):
    runner = CliRunner()
    env = {**_env(neo4j_server.settings), "INTERESTGRAPH_RETRY_SECONDS": "0"}
    real = read_password(neo4j_server.settings.home)
    assert real
    outputs = []
    for args in (["-vv", "neo4j", "status"], ["-vv", "stats"], ["-vv", "schema"]):
        res = runner.invoke(cli, args, env=env)
        assert res.exit_code == 0, res.output
        outputs.append(res.output)
    wrong = {**env, "NEO4J_URI": neo4j_server.settings.local_uri, "NEO4J_PASSWORD": "wr0ng-s3cret"}
    res = runner.invoke(cli, ["-vv", "stats"], env=wrong)  # one attempt: no auth lock-out
    assert res.exit_code == 1 and "refused the credentials" in res.output
    outputs.append(res.output + repr(res.exception))
    gone = {**env, "NEO4J_URI": f"bolt://127.0.0.1:{free_port()}", "NEO4J_PASSWORD": "g0ne-s3cret"}
    res = runner.invoke(cli, ["-vv", "stats"], env=gone)
    assert res.exit_code == 1 and "cannot reach Neo4j" in res.output
    outputs.append(res.output + repr(res.exception))
    for out in outputs:
        assert real not in out and "s3cret" not in out


def test_the_server_logs_never_hold_the_password(neo4j_server):
    real = read_password(neo4j_server.settings.home)
    logs = [p for p in (neo4j_server.settings.home / "neo4j").rglob("*.log") if p.is_file()]
    assert logs, "no server logs found"
    for path in logs:
        assert real not in path.read_text(errors="replace"), path


def test_secret_files_are_owner_only(neo4j_server, tmp_path):
    mode = stat.S_IMODE(os.stat(password_file(neo4j_server.settings.home)).st_mode)
    assert mode == 0o600
    settings = neo4j_server.settings.with_overrides(home=tmp_path)
    token = api_token(settings)
    assert stat.S_IMODE(os.stat(token_file(tmp_path)).st_mode) == 0o600
    os.chmod(token_file(tmp_path), 0o644)  # someone loosened it: the next read tightens it
    assert api_token(settings) == token
    assert stat.S_IMODE(os.stat(token_file(tmp_path)).st_mode) == 0o600
    assert api_token(settings.with_overrides(api_token="from-env")) == "from-env"
