"""The semantic layer: built from our corpus, reproducible, gated, explained, tunable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from cogs.courtesy import train
from cogs.courtesy.engine import Engine
from cogs.courtesy.rules import Action, Category, build_settings
from cogs.courtesy.semantic import (
    ARTEFACT,
    LAYER_ENCODER,
    LAYER_EXAMPLE,
    CachedEncoder,
    Model,
    default_model,
)

#: A circle that turned the semantic layer on (it ships off: see rules.toml).
ON = build_settings({"semantic": {"enabled": True}})


def test_the_layer_ships_off_and_a_circle_turns_it_on() -> None:
    assert Engine().model is None
    assert Engine(ON).model is not None


def test_the_shipped_model_was_trained_on_the_shipped_corpus() -> None:
    assert ARTEFACT.exists(), "run `make moderation-model`"
    texts = [e.text for e in train.read_corpus(sorted(train.CORPUS_DIR.glob("*.jsonl")))]
    digest = hashlib.sha256("\n".join(texts).encode("utf-8", "surrogatepass")).hexdigest()
    with np.load(ARTEFACT) as data:
        assert str(data["corpus_sha256"]) == digest, "the corpus changed: `make moderation-model`"
    assert ARTEFACT.stat().st_size < 2 * 1024 * 1024


def test_training_is_reproducible(tmp_path: Path) -> None:
    corpus = tmp_path / "small.jsonl"
    lines: list[str] = []
    for path in sorted(train.CORPUS_DIR.glob("*.jsonl")):
        lines += path.read_text(encoding="utf-8").splitlines()[::12]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / f"{run}.npz"
        assert train.main(["--corpus", str(corpus), "--out", str(out)]) == 0
        with np.load(out) as data:
            outputs.append({k: data[k].copy() for k in data.files})
    first, second = outputs
    assert first.keys() == second.keys()
    for key in first:
        assert np.array_equal(first[key], second[key]), key


class Counting:
    """The bundled encoder, counting the texts it is asked to encode."""

    def __init__(self) -> None:
        from cogs.digest.clustering import default_encoder

        self.encode = default_encoder()
        self.texts: list[str] = []

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.texts.extend(texts)
        return self.encode(texts)


@pytest.fixture
def encoder() -> Counting:
    return Counting()


def test_plain_benign_answers_mostly_skip_the_encoder(encoder: Counting) -> None:
    import random
    import sys

    sys.path.insert(0, str(Path(__file__).parents[3] / "bench"))
    from pipeline import make_text  # the pipeline benchmark's answers about professions

    engine = Engine(ON, encoder=encoder)
    rng = random.Random(7)
    texts = [make_text(rng) for _ in range(200)]
    for text in texts:
        decision = engine.evaluate(text)
        assert not decision.acted, text
        assert decision.semantic is not None
    # The gate lets most of them through without the encoder (they never pay its 2 ms).
    assert len(encoder.texts) <= len(texts) // 10


class Fake:
    """A cheap encoder: a vector made from the text's length, counting the texts it encodes."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.texts.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_a_text_seen_again_is_not_encoded_again() -> None:
    fake = Fake()
    cached = CachedEncoder(fake, size=2)
    first = cached(["Rejoins mon groupe privé"])
    again = cached(["Rejoins mon groupe privé"])
    assert fake.texts == ["Rejoins mon groupe privé"]
    assert np.array_equal(first, again) and first.shape == (1, 2)
    with pytest.raises(ValueError):
        again[0, 0] = 0.0  # one vector serves every caller: nobody may change it


def test_the_vector_cache_is_bounded_and_batches_pass_through() -> None:
    fake = Fake()
    cached = CachedEncoder(fake, size=2)
    for text in ("a", "bb", "ccc", "a"):
        cached([text])
    assert fake.texts == ["a", "bb", "ccc", "a"]  # "a" was the least recently used: forgotten
    assert cached(["bb", "bb"]).shape == (2, 2)
    assert fake.texts[4:] == ["bb", "bb"]  # a batch's vectors are computed, never cached


def test_a_spam_wave_pays_the_encoder_once_with_the_same_decisions(encoder: Counting) -> None:
    plain = Engine(ON, encoder=Counting())
    wave = Engine(ON, encoder=CachedEncoder(encoder))
    expected = plain.evaluate(SPAM_EN)
    assert expected.layer == LAYER_ENCODER
    for _ in range(5):
        assert wave.evaluate(SPAM_EN) == expected
    assert encoder.texts == [SPAM_EN]


def test_every_engine_of_the_bundled_encoder_shares_one_vector_cache() -> None:
    first, second = Engine(ON), Engine(build_settings({"semantic": {"enabled": True}}))
    assert isinstance(first.encoder, CachedEncoder) and first.encoder is second.encoder


THREAT_FR = "Je sais où tu gares ta voiture le soir, fais attention à toi."
THREAT_EN = "Keep posting and your kids might not get home from school one day."
HATE_FR = "Les femmes n'ont rien à faire dans un atelier de mécanique, c'est biologique."
HATE_EN = "Old people should just retire and stop slowing every team down."
# No listed words: the rules catch "crypto … DM me" since #13, the meaning is what is left.
SPAM_EN = "💰 Double your savings in 48h, ask me for the private signal group 🚀"


@pytest.mark.parametrize(
    ("text", "family", "action"),
    [
        (THREAT_FR, Category.THREAT, Action.HOLD),
        (THREAT_EN, Category.THREAT, Action.HOLD),
        (HATE_FR, Category.HATE, Action.HIDE),
        (HATE_EN, Category.HATE, Action.HIDE),
        (SPAM_EN, Category.SPAM, Action.HIDE),
    ],
)
def test_meaning_without_listed_words_is_named_with_score_and_layer(
    text: str, family: Category, action: Action
) -> None:
    decision = Engine(ON).evaluate(text)
    assert (decision.category, decision.action) == (family, action), decision.reasons
    assert decision.layer == LAYER_ENCODER
    assert decision.score is not None and 0.3 < decision.score <= 1.0
    assert decision.rule == f"semantic.{family}"


def test_a_circle_threshold_silences_a_family() -> None:
    text = THREAT_FR
    strict = Engine(build_settings({"semantic": {"enabled": True, "thresholds": {"threat": 1.0}}}))
    decision = strict.evaluate(text)
    assert decision.category is not Category.THREAT
    assert decision.semantic is not None and decision.semantic.family is Category.OK
    off = Engine(build_settings({"semantic": {"enabled": False}}))
    assert off.model is None and off.evaluate(text).semantic is None


def test_an_approved_example_lets_a_similar_message_through() -> None:
    engine = Engine(ON)
    before = engine.evaluate(HATE_EN)
    assert before.acted and before.layer == LAYER_ENCODER
    engine.learn([HATE_EN])
    again = engine.evaluate("Old people should just retire and stop slowing every team down!")
    assert not again.acted
    assert again.semantic is not None and again.semantic.layer == LAYER_EXAMPLE


def test_the_model_refuses_an_artefact_of_other_classes(tmp_path: Path) -> None:
    model = default_model()
    assert model is not None
    with np.load(ARTEFACT) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["classes"] = np.array(["ok", "threat"])
    path = tmp_path / "other.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="trained for classes"):
        Model.load(path)


def test_batch_tool_and_bot_share_the_engine(tmp_path: Path) -> None:
    from cogs.courtesy.batch import run

    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"text": HATE_EN}) + "\n",
        encoding="utf-8",
    )
    config = tmp_path / "courtesy.toml"
    config.write_text("[semantic]\nenabled = true\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run(source, out, config) == 0
    row = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert row["category"] == "hate" and row["layer"] == LAYER_ENCODER and "score" in row
