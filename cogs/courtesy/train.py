"""Train the semantic layer on our corpus: ``make moderation-model``.

The corpus is every ``data/corpus/*.jsonl`` file (``{"text", "lang", "label", "note"}``),
written for Cercle; personal details (``pii``) are the rules' business and count as acceptable
here. Training is deterministic (a fixed seed, full-batch L-BFGS):

1. five folds give every message a prediction from models that never saw it; on those the
   gate's threshold is set so that 99% of the harmful messages reach the encoder, and each
   family's threshold so that it touches at most 0.5% of the acceptable ones;
2. the gate is fitted on everything, then the encoder model on top of the gate's out-of-fold
   evidence (what the gate says of a message it has not seen, as in production).

The result, ``data/semantic.npz``, holds only the weights the corpus touched (float16).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]
from scipy.optimize import minimize  # type: ignore[import-untyped]

from cogs.courtesy.engine import Engine
from cogs.courtesy.lexicon import DATA_DIR
from cogs.courtesy.rules import Category, build_settings
from cogs.courtesy.semantic import ARTEFACT, BUCKETS, CLASSES, FAMILIES, features

CORPUS_DIR: Final = DATA_DIR / "corpus"
SEED: Final = 20261207
FOLDS: Final = 5
GATE_RECALL: Final = 0.99
MAX_FALSE_POSITIVES: Final = 0.005
MIN_THRESHOLD: Final = 0.35
GATE_L2: Final = 1e-3
ENCODER_L2: Final = 1e-3
STACK_L2: Final = 1e-3
#: The share of the training weight carried by acceptable messages.
OK_SHARE: Final = 0.6

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    lang: str
    label: Category
    note: str


def read_corpus(paths: Sequence[Path]) -> list[Example]:
    """Every example of the JSON-lines files ``paths`` (``pii`` read as acceptable)."""
    examples: list[Example] = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                label = "ok" if data["label"] == "pii" else data["label"]
                examples.append(
                    Example(data["text"], data["lang"], Category(label), data.get("note", ""))
                )
            except (ValueError, KeyError) as error:
                raise ValueError(f"{path}:{number}: {error}") from error
    return examples


def feature_matrix(engine: Engine, texts: Sequence[str]) -> sparse.csr_matrix:
    """The gate's binary features, one row per text."""
    rows, cols = [], []
    for row, text in enumerate(texts):
        found = features(engine.words(text), text)
        rows.extend([row] * len(found))
        cols.extend(found.tolist())
    data = np.ones(len(rows), dtype=np.float64)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(texts), BUCKETS))


def _softmax(logits: Floats) -> Floats:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    result: Floats = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def fit(
    x: Any, y: npt.NDArray[np.int64], weights: Floats, l2: float, offset: Floats | None = None
) -> tuple[Floats, Floats]:
    """Multinomial logistic regression: (weights, bias) minimising the weighted log loss."""
    n, d = x.shape
    k = len(CLASSES)
    target = np.zeros((n, k))
    target[np.arange(n), y] = 1.0
    total = weights.sum()
    base = offset if offset is not None else np.zeros((n, k))

    def loss(params: Floats) -> tuple[float, Floats]:
        w = params[: d * k].reshape(d, k)
        b = params[d * k :]
        logits = x @ w + b + base
        logits -= logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        value = -(weights * log_probs[np.arange(n), y]).sum() / total + 0.5 * l2 * (w * w).sum()
        residual = (np.exp(log_probs) - target) * (weights / total)[:, None]
        grad_w = x.T @ residual + l2 * w
        grad_b = residual.sum(axis=0)
        return float(value), np.concatenate([np.asarray(grad_w).ravel(), grad_b])

    start = np.zeros(d * k + k)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    params = result.x
    return params[: d * k].reshape(d, k), params[d * k :]


def class_weights(y: npt.NDArray[np.int64]) -> Floats:
    """Harmful families weigh the same in total; acceptable messages weigh ``OK_SHARE``.

    Balanced classes would tell a model that harm is the rule: a short message with little
    evidence would lean to a family. A circle's messages are overwhelmingly acceptable.
    """
    counts = np.bincount(y, minlength=len(CLASSES)).astype(np.float64)
    harmful = max(int((counts[1:] > 0).sum()), 1)
    share = np.where(counts[1:] > 0, (1.0 - OK_SHARE) / harmful, 0.0)
    per_class = np.concatenate([[OK_SHARE], share]) * len(y) / np.maximum(counts, 1)
    result: Floats = per_class[y]
    return result


@dataclass
class Trained:
    """What one fit produced."""

    gate_w: Floats
    gate_b: Floats
    enc_w: Floats
    enc_b: Floats


def train_on(x: Any, vectors: Floats, y: npt.NDArray[np.int64]) -> Trained:
    """Fit the gate (n-grams) and the encoder model (sentence vectors), each on its own."""
    weights = class_weights(y)
    used = np.unique(x.nonzero()[1])
    gate_w_used, gate_b = fit(x[:, used], y, weights, GATE_L2)
    gate_w = np.zeros((x.shape[1], len(CLASSES)))
    gate_w[used] = gate_w_used
    enc_w, enc_b = fit(vectors, y, weights, ENCODER_L2)
    return Trained(gate_w, gate_b, enc_w, enc_b)


def _log_softmax(logits: Floats) -> Floats:
    shifted = logits - logits.max(axis=1, keepdims=True)
    result: Floats = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return result


def stack_inputs(gate_logits: Floats, enc_logits: Floats) -> Floats:
    """What the stacker reads: both models' log-probabilities side by side."""
    return np.hstack([_log_softmax(gate_logits), _log_softmax(enc_logits)])


def out_of_fold(
    x: Any, vectors: Floats, y: npt.NDArray[np.int64], rng: np.random.Generator
) -> tuple[Floats, Floats]:
    """Gate and encoder-model logits for each example, from folds that never saw it."""
    n = len(y)
    order = rng.permutation(n)
    gate_logits = np.zeros((n, len(CLASSES)))
    enc_logits = np.zeros((n, len(CLASSES)))
    for fold in np.array_split(order, FOLDS):
        train = np.setdiff1d(order, fold)
        model = train_on(x[train], vectors[train], y[train])
        gate_logits[fold] = np.asarray(x[fold] @ model.gate_w) + model.gate_b
        enc_logits[fold] = vectors[fold] @ model.enc_w + model.enc_b
    return gate_logits, enc_logits


def thresholds(
    gate_logits: Floats, combined: Floats, y: npt.NDArray[np.int64]
) -> tuple[float, list[float]]:
    """The gate's threshold and each family's, from out-of-fold predictions."""
    risk = 1.0 - _softmax(gate_logits)[:, 0]
    harmful = risk[y != 0]
    gate = float(np.quantile(harmful, 1.0 - GATE_RECALL)) if len(harmful) else 0.5
    ok = combined[y == 0]
    limits: list[float] = []
    for index in range(1, len(CLASSES)):
        best = ok.argmax(axis=1) == index
        scores = np.sort(ok[best, index])[::-1]
        allowed = int(MAX_FALSE_POSITIVES * len(ok))
        limit = float(scores[allowed]) + 1e-6 if len(scores) > allowed else MIN_THRESHOLD
        limits.append(max(MIN_THRESHOLD, min(limit, 0.95)))
    return gate, limits


def report(combined: Floats, y: npt.NDArray[np.int64], limits: Sequence[float]) -> list[str]:
    """Out-of-fold precision and recall per family (the training corpus: optimistic)."""
    best = combined[:, 1:].argmax(axis=1) + 1
    score = combined[np.arange(len(y)), best]
    predicted = np.where(score >= np.asarray(limits)[best - 1], best, 0)
    lines = []
    for index, family in enumerate(CLASSES):
        tp = int(((predicted == index) & (y == index)).sum())
        fp = int(((predicted == index) & (y != index)).sum())
        fn = int(((predicted != index) & (y == index)).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        lines.append(f"  {family:<10} precision {precision:.2f} recall {recall:.2f} (n={tp + fn})")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Train on the corpus and write the model."""
    parser = argparse.ArgumentParser(prog="python -m cogs.courtesy.train", description=__doc__)
    parser.add_argument(
        "--corpus", type=Path, nargs="*", help="JSON-lines files (default: data/corpus)"
    )
    parser.add_argument("--out", type=Path, default=ARTEFACT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    paths = args.corpus or sorted(CORPUS_DIR.glob("*.jsonl"))
    if not paths:
        print(f"no corpus in {CORPUS_DIR}", file=sys.stderr)
        return 1
    began = time.perf_counter()
    examples = read_corpus(paths)
    print(f"corpus: {len(examples)} messages from {len(paths)} files", file=sys.stderr)
    counts = Counter((e.label.value, e.lang) for e in examples)
    print(
        "  " + ", ".join(f"{k[0]}/{k[1]} {v}" for k, v in sorted(counts.items())), file=sys.stderr
    )
    engine = Engine(build_settings({"semantic": {"enabled": False}}))  # its words only
    texts = [e.text for e in examples]
    y = np.array([CLASSES.index(e.label) for e in examples], dtype=np.int64)
    x = feature_matrix(engine, texts)
    print("encoding the corpus with the bundled sentence encoder…", file=sys.stderr)
    from cogs.digest.clustering import default_encoder

    encode = default_encoder()
    vectors = np.vstack([encode(texts[i : i + 128]) for i in range(0, len(texts), 128)]).astype(
        np.float64
    )
    rng = np.random.default_rng(args.seed)
    print(f"{FOLDS} folds…", file=sys.stderr)
    gate_logits, enc_logits = out_of_fold(x, vectors, y, rng)
    stacked = stack_inputs(gate_logits, enc_logits)
    weights = class_weights(y)
    stack_w, stack_b = fit(stacked, y, weights, STACK_L2)
    # The stacker's own out-of-fold view, for the thresholds (it has 105 weights: cheap).
    combined = np.zeros_like(gate_logits)
    for fold in np.array_split(rng.permutation(len(y)), FOLDS):
        rest = np.setdiff1d(np.arange(len(y)), fold)
        w, b = fit(stacked[rest], y[rest], weights[rest], STACK_L2)
        combined[fold] = _softmax(stacked[fold] @ w + b)
    gate, limits = thresholds(gate_logits, combined, y)
    passed = float(((1.0 - _softmax(gate_logits)[:, 0]) >= gate)[y == 0].mean())
    print(
        f"gate threshold {gate:.3f}: {passed:.0%} of acceptable messages reach the encoder",
        file=sys.stderr,
    )
    print(
        "family thresholds: "
        + ", ".join(f"{f} {t:.2f}" for f, t in zip(FAMILIES, limits, strict=True)),
        file=sys.stderr,
    )
    print("out-of-fold, on the training corpus (optimistic):", file=sys.stderr)
    print("\n".join(report(combined, y, limits)), file=sys.stderr)
    final = train_on(x, vectors, y)
    rows = np.flatnonzero(np.abs(final.gate_w).max(axis=1) > 1e-4).astype(np.int32)
    digest = hashlib.sha256("\n".join(texts).encode("utf-8", "surrogatepass")).hexdigest()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as out:
        np.savez_compressed(
            out,
            classes=np.array([c.value for c in CLASSES]),
            gate_rows=rows,
            gate_values=final.gate_w[rows].astype(np.float16),
            gate_bias=final.gate_b.astype(np.float32),
            encoder_weights=final.enc_w.astype(np.float16),
            encoder_bias=final.enc_b.astype(np.float32),
            stack_weights=stack_w.astype(np.float32),
            stack_bias=stack_b.astype(np.float32),
            gate_threshold=np.float32(gate),
            thresholds=np.array(limits, dtype=np.float32),
            corpus_sha256=np.array(digest),
            seed=np.int64(args.seed),
        )
    size = args.out.stat().st_size
    print(
        f"wrote {args.out} ({size / 1024:.0f} KiB, {len(rows)} gate rows) in "
        f"{time.perf_counter() - began:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
