"""What the digest modules share: vector types, the model's identity, an answer as read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
Encoder = Callable[[Sequence[str]], Vectors]
Progress = Callable[[int, int], None]

#: Identifies the model (and the sentence splitting) in cached vectors.
MODEL_TAG: Final = "usem3-v3/s1"
DIMS: Final = 512


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
