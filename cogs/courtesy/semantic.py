"""The semantic layer: what a message means, beside what its words are.

Two linear models trained on our own labelled corpus (``data/corpus/``, see
:mod:`cogs.courtesy.train`), shipped as one small file (``data/semantic.npz``):

* the **gate** reads hashed word, word-pair and character n-gram features of the words the
  rules already cut out (disguises undone). It is cheap (a few microseconds) and tuned for
  recall: a message it finds benign is allowed without paying for the encoder — most
  messages of a professional circle;
* the **encoder model** reads the bundled multilingual sentence encoder's vector (the one the
  digest uses, about 2 ms a message) and, added to the gate's evidence, names the family:
  threat, hate, spam, rude, insult or profanity, with a probability.

A family acts only above its threshold (chosen at training time on held-apart folds so that
acceptable messages are rarely touched; a circle can raise or lower it per family).

numpy is imported by the functions that compute, not by this module: a bot whose circles keep
the layer off (the default) never loads it.
"""

from __future__ import annotations

import itertools
import re
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeAlias

from bot.cache import LRU
from cogs.courtesy.lexicon import DATA_DIR
from cogs.courtesy.rules import Category

ARTEFACT: Final = DATA_DIR / "semantic.npz"
#: The model's classes, in the order of its weight columns.
CLASSES: Final = (
    Category.OK,
    Category.THREAT,
    Category.HATE,
    Category.SPAM,
    Category.RUDE,
    Category.INSULT,
    Category.PROFANITY,
)
FAMILIES: Final = CLASSES[1:]
BUCKETS: Final = 1 << 18
LAYER_GATE: Final = "gate"
LAYER_ENCODER: Final = "encoder"
#: A message this close (cosine) to one a host approved in the circle is allowed.
LAYER_EXAMPLE: Final = "example"
EXAMPLE_SIMILARITY: Final = 0.9
#: Sentence vectors remembered by :class:`CachedEncoder` (2 KiB each: 2 MiB in all).
VECTORS_CACHED: Final = 1024

_EMOJI_RE: Final = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]")
_LINK_RE: Final = re.compile(r"https?://|www\.|\b[\w-]+\.(?:gg|io|xyz|link|ly|me)/", re.I)
_QUOTE_RE: Final = re.compile('[«»“”"„]')
_DIGITS_RE: Final = re.compile(r"\d")

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Encoder: TypeAlias = Callable[[Sequence[str]], npt.NDArray[np.float32]]


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8", "surrogatepass")) & (BUCKETS - 1)


@lru_cache(maxsize=65536)
def _word_features(word: str) -> tuple[int, ...]:
    """A word and its character 3- and 4-grams (with boundaries): spelling variants share most."""
    marked = f"<{word}>"
    grams = {f"w:{word}"}
    for n in (3, 4):
        grams.update(f"c{n}:{marked[i : i + n]}" for i in range(len(marked) - n + 1))
    return tuple(_bucket(g) for g in grams)


@lru_cache(maxsize=65536)
def _pair_bucket(first: str, second: str) -> int:
    """A word pair's feature (most pairs of a circle's messages come back)."""
    return _bucket(f"b:{first} {second}")


def features(words: Sequence[str], text: str) -> npt.NDArray[np.int64]:
    """The hashed features of a message: its (folded, undisguised) ``words`` and raw ``text``."""
    import numpy as np

    found: set[int] = set()
    # One update over every word's features: the same insertions in the same order (so the
    # same iteration order, and the gate's sums to the bit), without a call per word.
    found.update(*map(_word_features, words))
    found.update(map(_pair_bucket, words, itertools.islice(words, 1, None)))
    found.update(_bucket(f"e:{e}") for e in set(_EMOJI_RE.findall(text)))
    # Every link the pattern knows has a "/" or "www." in it: most messages skip its search.
    if ("/" in text or "www." in text.lower()) and _LINK_RE.search(text):
        found.add(_bucket("x:link"))
    if _QUOTE_RE.search(text):
        found.add(_bucket("x:quote"))
    if "@" in text:
        found.add(_bucket("x:at"))
    if len(_DIGITS_RE.findall(text)) >= 6:
        found.add(_bucket("x:digits"))
    found.add(_bucket(f"x:len{min(len(words), 40) // 5}"))
    return np.fromiter(found, dtype=np.int64, count=len(found))


class CachedEncoder:
    """An encoder that remembers the vectors of the single texts it encoded lately.

    A spam wave posts the same text from many accounts, members repeat a phrase: the encoder
    (about 3 ms a message) runs once for it while it stays among the ``size`` most recently
    seen. Only one-text calls are remembered: the semantic layer encodes one message at a
    time, and a text encoded inside a batch may differ from its single vector in the last
    bits, so a vector served from here is exactly the one the encoder would compute again.
    """

    def __init__(self, encoder: Encoder, size: int = VECTORS_CACHED) -> None:
        self._encoder = encoder
        self._vectors: LRU[str, npt.NDArray[np.float32]] = LRU(size)
        # Shared by every engine of the process, which callers may run from several threads.
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """The vectors of ``texts``, one row each."""
        if len(texts) != 1:
            return self._encoder(texts)
        text = texts[0]
        with self._lock:
            vector = self._vectors.get(text)
        if vector is None:
            vector = self._encoder([text]).copy()
            vector.setflags(write=False)  # shared by every later caller: nobody may alter it
            with self._lock:
                self._vectors[text] = vector
        return vector


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the semantic layer thinks of a message."""

    #: ``Category.OK`` when nothing crossed its threshold.
    family: Category
    #: The probability of ``family`` (for ``OK``: of the likeliest family).
    score: float
    #: ``gate`` (allowed without the encoder) or ``encoder``.
    layer: str


def _log_softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    import numpy as np

    shifted = logits - logits.max()
    result: npt.NDArray[np.float32] = shifted - np.log(np.exp(shifted).sum())
    return result


def _softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    import numpy as np

    shifted = np.exp(logits - logits.max())
    result: npt.NDArray[np.float32] = shifted / shifted.sum()
    return result


@dataclass(frozen=True)
class Model:
    """The trained weights and the thresholds chosen with them."""

    gate_weights: npt.NDArray[np.float32]  # (BUCKETS, classes)
    gate_bias: npt.NDArray[np.float32]
    encoder_weights: npt.NDArray[np.float32]  # (dims, classes)
    encoder_bias: npt.NDArray[np.float32]
    #: Reads both models' log-probabilities side by side: (2 * classes, classes).
    stack_weights: npt.NDArray[np.float32]
    stack_bias: npt.NDArray[np.float32]
    #: Below this probability of "not ok" from the gate, the encoder is not consulted.
    gate_threshold: float
    #: Per family, the probability from which it acts.
    thresholds: dict[Category, float]

    @classmethod
    def load(cls, path: Path = ARTEFACT) -> Model:
        """The model saved at ``path`` by :mod:`cogs.courtesy.train`."""
        import numpy as np

        with np.load(path) as data:
            classes = tuple(Category(c) for c in data["classes"])
            if classes != CLASSES:
                raise ValueError(f"{path}: trained for classes {classes}, not {CLASSES}")
            gate = np.zeros((BUCKETS, len(CLASSES)), dtype=np.float32)
            gate[data["gate_rows"]] = data["gate_values"].astype(np.float32)
            return cls(
                gate_weights=gate,
                gate_bias=data["gate_bias"].astype(np.float32),
                encoder_weights=data["encoder_weights"].astype(np.float32),
                encoder_bias=data["encoder_bias"].astype(np.float32),
                stack_weights=data["stack_weights"].astype(np.float32),
                stack_bias=data["stack_bias"].astype(np.float32),
                gate_threshold=float(data["gate_threshold"]),
                thresholds={
                    family: float(value)
                    for family, value in zip(FAMILIES, data["thresholds"], strict=True)
                },
            )

    def gate_logits(self, found: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """The gate's evidence for each class."""
        logits: npt.NDArray[np.float32] = self.gate_weights[found].sum(axis=0) + self.gate_bias
        return logits

    def combined(
        self, gate_logits: npt.NDArray[np.float32], vector: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """Both models' evidence together, as probabilities."""
        import numpy as np

        encoded = vector @ self.encoder_weights + self.encoder_bias
        stacked = np.concatenate([_log_softmax(gate_logits), _log_softmax(encoded)])
        return _softmax(stacked @ self.stack_weights + self.stack_bias)

    def judge(
        self,
        words: Sequence[str],
        text: str,
        encoder: Encoder | None,
        thresholds: Mapping[Category, float] | None = None,
        examples: npt.NDArray[np.float32] | None = None,
    ) -> Judgement:
        """The family of ``text`` (``OK`` when none crosses its threshold).

        ``encoder`` is called only for messages the gate does not let through; ``None``
        decides on the gate alone. ``examples`` (unit vectors, one per row) are messages a
        host approved: one close enough allows the message.
        """
        import numpy as np

        logits = self.gate_logits(features(words, text))
        probs = _softmax(logits)
        risk = float(1.0 - probs[0])
        if risk < self.gate_threshold:
            return Judgement(Category.OK, risk, LAYER_GATE)
        layer = LAYER_GATE
        vector = None
        if encoder is not None:
            vector = encoder([text])[0]
            probs = self.combined(logits, vector)
            layer = LAYER_ENCODER
        limits = {**self.thresholds, **(thresholds or {})}
        best = int(np.argmax(probs[1:])) + 1
        family, score = CLASSES[best], float(probs[best])
        if score < limits.get(family, 1.0):
            return Judgement(Category.OK, score, layer)
        if vector is not None and examples is not None and len(examples):
            norm = float(np.linalg.norm(vector)) or 1.0
            closest = float((examples @ (vector / norm)).max())
            if closest >= EXAMPLE_SIMILARITY:
                return Judgement(Category.OK, closest, LAYER_EXAMPLE)
        return Judgement(family, score, layer)


@cache
def default_model() -> Model | None:
    """The shipped model, or ``None`` when it was not built (``make moderation-model``)."""
    if not ARTEFACT.exists():
        return None
    return Model.load(ARTEFACT)
