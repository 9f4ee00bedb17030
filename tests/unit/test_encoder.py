"""The bundled text model, loaded offline, on both back-ends."""

from __future__ import annotations

import numpy as np
import pytest

from interestgraph.config import Settings
from interestgraph.embedding import DEFAULT_MODEL, TextEncoder, text_hash
from interestgraph.errors import ConfigError

TEXTS = [
    "wireless headphones",
    "bluetooth earbuds",
    "a cast iron skillet",
    "",
    "Acme compact kettle. A compact kettle from Acme, part of our kitchen range.",
    " ".join(["very long description"] * 200),  # past the 256-token limit: truncated alike
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def encoder(cache):
    return TextEncoder(device="cpu", cache_dir=cache)


def test_default_model_loads_offline_and_gives_unit_vectors(encoder):
    v = encoder.encode(["wireless headphones", "bluetooth earbuds", "a cast iron skillet"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]  # related products are closer
    assert encoder.model_name == DEFAULT_MODEL
    assert encoder.encode([]).shape == (0, 384)


def test_onnx_backend_gives_the_pytorch_vectors(encoder, cache):
    assert encoder.backend == "onnx"  # auto on CPU with onnxruntime installed
    torch_enc = TextEncoder(device="cpu", backend="torch", batch_size=4)
    assert torch_enc.backend == "torch"
    got, want = encoder.encode(TEXTS), torch_enc.encode(TEXTS)
    assert got.shape == want.shape == (len(TEXTS), 384)
    assert np.abs(got - want).max() < 1e-5
    # batches of different composition (length-sorted, 2 per batch) give the same rows
    small = TextEncoder(device="cpu", batch_size=2, cache_dir=cache)
    assert np.abs(small.encode(TEXTS) - want).max() < 1e-5


def test_onnx_export_is_made_once_and_reused(encoder, cache):
    assert encoder.backend == "onnx"
    files = sorted(cache.rglob("*"))
    model = [p for p in files if p.name == "model.onnx"]
    assert len(model) == 1 and not [p for p in files if p.name.endswith(".tmp")]
    stamp = model[0].stat().st_mtime_ns
    again = TextEncoder(device="cpu", backend="onnx", cache_dir=cache)
    assert again.backend == "onnx" and again._onnx.path == model[0]
    assert model[0].stat().st_mtime_ns == stamp


def test_models_the_export_cannot_reproduce_stay_on_pytorch(cache):
    auto = TextEncoder(device="cpu", cache_dir=cache)
    auto._load()[1].pooling_mode = "cls"  # a model pooled some other way
    assert auto.backend == "torch"
    forced = TextEncoder(device="cpu", backend="onnx", cache_dir=cache)
    forced._load()[1].pooling_mode = "cls"
    with pytest.raises(ConfigError, match="pooling mode 'cls'"):
        forced.encode(["x"])


def test_backend_setting(monkeypatch):
    with pytest.raises(ConfigError, match="unknown text backend 'gpu'"):
        TextEncoder(backend="gpu")
    assert Settings.from_env({"INTERESTGRAPH_TEXT_BACKEND": "torch"}).text_backend == "torch"
    assert Settings.from_env({}).text_backend == "auto"


def test_hash_depends_on_text_and_model():
    assert text_hash("m", "a") == text_hash("m", "a")
    assert text_hash("m", "a") != text_hash("m", "b")
    assert text_hash("m", "a") != text_hash("other", "a")


def test_unloadable_model_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot load text model"):
        TextEncoder(str(tmp_path / "missing-model-folder")).encode(["x"])
