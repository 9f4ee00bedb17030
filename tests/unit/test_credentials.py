import stat

from interestgraph.graphstore.credentials import ensure_password, password_file, read_password


def test_password_is_generated_once_with_mode_0600(tmp_path):
    assert read_password(tmp_path) is None
    first = ensure_password(tmp_path)
    assert len(first) >= 24
    mode = stat.S_IMODE(password_file(tmp_path).stat().st_mode)
    assert mode == 0o600
    assert ensure_password(tmp_path) == first
    assert read_password(tmp_path) == first


def test_loosened_permissions_are_tightened_again(tmp_path):
    ensure_password(tmp_path)
    password_file(tmp_path).chmod(0o644)
    ensure_password(tmp_path)
    assert stat.S_IMODE(password_file(tmp_path).stat().st_mode) == 0o600


def test_a_new_secret_never_starts_with_a_dash(tmp_path, monkeypatch):
    from interestgraph.graphstore import credentials

    draws = iter(["-looks-like-an-option", "-again", "fine-secret"])
    monkeypatch.setattr(credentials.secrets, "token_urlsafe", lambda n: next(draws))
    assert credentials.ensure_secret(tmp_path / "s") == "fine-secret"
