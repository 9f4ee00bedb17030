"""Text encoding on CPU through ONNX Runtime: the same vectors as sentence-transformers, faster.

Why this module exists: sentence-transformers' own ONNX backend (``backend="onnx"``) goes
through ``optimum-onnx``, which pins ``transformers<4.58``; our stack runs transformers 5.
So the model is exported here with ``torch.onnx.export`` (the transformer, its mean
pooling and the L2 normalisation, one graph) and run with ONNX Runtime's CPU provider.
Measured on the 2-core development machine: ~1.5× the texts/s of the PyTorch path, with
vectors equal to it within 3·10⁻⁷ (``bench/embed.py`` prints both;
``tests/unit/test_encoder.py`` checks the equality).

Only the pipelines this module can reproduce exactly are exported: a ``Transformer``
followed by ``Pooling`` in ``mean`` mode and optionally ``Normalize``
(all-MiniLM-L6-v2, the default, is one). :func:`unsupported` says why any other model is
not, and :class:`~interestgraph.embedding.encoder.TextEncoder` then stays on PyTorch.

The exported file is cached under ``<cache>/onnx/<key>/model.onnx`` (``key``: a hash of the
model folder's configuration and weight files, the torch version and the opset), written
to a temporary name and renamed, so a crash never leaves a half-written model; it is made
once per machine (~10 s).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["OnnxTextModel", "available", "unsupported"]

log = logging.getLogger(__name__)

_OPSET = 17
_SUPPORTED = ("Transformer", "Pooling", "Normalize")


def available() -> bool:
    """True when ONNX Runtime and the exporter's ``onnx`` package are installed."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def unsupported(model: SentenceTransformer) -> str | None:
    """Why ``model`` cannot be exported exactly (``None``: it can)."""
    names = [type(m).__name__ for m in model]
    if names[:2] != ["Transformer", "Pooling"] or any(n not in _SUPPORTED for n in names[2:]):
        return f"modules {names} (supported: Transformer, Pooling[mean], optional Normalize)"
    mode = getattr(model[1], "pooling_mode", None)
    if mode != "mean":
        return f"pooling mode {mode!r} (supported: 'mean')"
    if not hasattr(model[0], "auto_model"):
        return "the Transformer module has no auto_model"
    return None


def _cache_key(source: Path, names: list[str]) -> str:
    import torch

    h = hashlib.sha256(f"{source}|{torch.__version__}|{_OPSET}|{','.join(names)}".encode())
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix != ".md")
    for p in files:
        st = p.stat()
        h.update(f"{p.relative_to(source)}|{st.st_size}|{int(st.st_mtime)}".encode())
        if p.suffix == ".json":
            h.update(p.read_bytes())
    return h.hexdigest()[:20]


def _export(model: SentenceTransformer, inputs: list[str], path: Path) -> None:
    import torch

    class _Encoder(torch.nn.Module):
        """Transformer → mean over the attended tokens → unit length."""

        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            kwargs = dict(zip(inputs, args, strict=True))
            h = self.transformer(**kwargs).last_hidden_state
            w = kwargs["attention_mask"].unsqueeze(-1).to(h.dtype)
            v = (h * w).sum(1) / w.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(v, dim=1)

    sample = model.preprocess(["an example text", "another, somewhat longer example text"])
    args = tuple(sample[k].cpu() for k in inputs)
    enc = _Encoder(model[0].auto_model).eval().cpu()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    axes = {k: {0: "batch", 1: "tokens"} for k in inputs} | {"vector": {0: "batch"}}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            enc, args, str(tmp), input_names=inputs, output_names=["vector"],
            dynamic_axes=axes, opset_version=_OPSET, dynamo=False,
        )  # fmt: skip
    os.replace(tmp, path)


class OnnxTextModel:
    """A sentence-transformers model exported to ONNX and run with ONNX Runtime on CPU.

    Args:
        model: The loaded model (its tokenizer is used as is; see :func:`unsupported`).
        source: The model's folder (hashed for the cache key).
        cache_dir: Where exported models are kept (``<cache_dir>/<key>/model.onnx``).
        threads: ONNX Runtime's intra-op threads (default: torch's thread count).
    """

    def __init__(
        self, model: SentenceTransformer, source: Path, cache_dir: Path, threads: int | None = None
    ) -> None:
        import onnxruntime as ort
        import torch

        reason = unsupported(model)
        if reason is not None:
            raise ValueError(f"cannot export this model to ONNX: {reason}")
        self.model = model
        sample = model.preprocess(["x"])
        self.inputs = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]
        folder = Path(cache_dir) / _cache_key(Path(source), self.inputs)
        self.path = folder / "model.onnx"
        if not self.path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            _export(model, self.inputs, self.path)
            log.info("exported the text model to %s in %.1f s", self.path, time.perf_counter() - t0)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(self.path), opts, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """``(len(texts), dim)`` float32 unit vectors; batches of similar length."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        parts: list[np.ndarray] = []
        for lo in range(0, len(texts), batch_size):
            batch = [texts[i] for i in order[lo : lo + batch_size]]
            feats: dict[str, Any] = self.model.preprocess(batch)
            feed = {k: feats[k].cpu().numpy().astype(np.int64) for k in self.inputs}
            parts.append(self.session.run(None, feed)[0])
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(parts)
        return out
