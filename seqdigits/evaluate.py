"""Measure a recognizer: MNIST test accuracy and sequence accuracy on generated lines by gap kind."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from classifier.predict import digit_probabilities
from classifier.preprocess import normalize_batch
from datasets.mnist import MnistSplit
from datasets.synth import GAP_KINDS, Gap, LineGenerator, SynthConfig
from seqdigits.recognizer import Recognizer

__all__ = ["DigitReport", "LineReport", "edit_distance", "evaluate_digits", "evaluate_lines"]


@dataclass(frozen=True, slots=True)
class DigitReport:
    """Single-digit accuracy on MNIST test (reject class ignored), per class, and the 10x10 confusion matrix."""

    accuracy: float
    per_class: tuple[float, ...]
    confusion: tuple[tuple[int, ...], ...]
    count: int


@dataclass(frozen=True, slots=True)
class LineReport:
    """Reading generated lines of one gap kind.

    ``sequence_accuracy``: share of lines read exactly; ``character_accuracy``:
    1 - edit distance / length, averaged; ``median_ms``: per line, one at a time.
    """

    gap: str
    lines: int
    length: int
    sequence_accuracy: float
    character_accuracy: float
    median_ms: float


def evaluate_digits(recognizer: Recognizer, split: MnistSplit, *, batch: int = 2000) -> DigitReport:
    """Classify every MNIST digit of ``split`` through the shared normalization."""
    classifier = recognizer.classifier
    predicted = np.zeros(len(split), np.int64)
    for s in range(0, len(split), batch):
        probs = classifier.probabilities(normalize_batch(list(split.images[s : s + batch]), classifier.preprocess))
        predicted[s : s + batch] = digit_probabilities(probs).argmax(axis=1)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (split.labels, predicted), 1)
    per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
    return DigitReport(
        accuracy=float((predicted == split.labels).mean()),
        per_class=tuple(float(v) for v in per_class),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        count=len(split),
    )


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def evaluate_lines(
    recognizer: Recognizer,
    split: MnistSplit,
    *,
    gaps: tuple[Gap, ...] = GAP_KINDS,
    lines: int = 200,
    length: int = 5,
    seed: int = 0,
    config: SynthConfig = SynthConfig(),
    use_length: bool = False,
) -> list[LineReport]:
    """Generate ``lines`` lines of ``length`` digits per gap kind from ``split`` and read them."""
    reports = []
    for k, gap in enumerate(gaps):
        generator = LineGenerator(split.images, split.labels, config=config, seed=seed * 100 + k)
        correct, char_acc, times = 0, 0.0, []
        for _ in range(lines):
            line = generator.line(length=length, gap=gap)
            start = time.perf_counter()
            reading = recognizer.read(line.image, length=length if use_length else None)
            times.append((time.perf_counter() - start) * 1000.0)
            correct += reading.text == line.text
            char_acc += max(0.0, 1.0 - edit_distance(reading.text, line.text) / len(line.text))
        reports.append(
            LineReport(
                gap=gap,
                lines=lines,
                length=length,
                sequence_accuracy=correct / lines,
                character_accuracy=char_acc / lines,
                median_ms=float(np.median(times)),
            )
        )
    return reports
