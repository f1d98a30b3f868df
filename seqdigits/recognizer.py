"""The pipeline: decode -> binarize -> over-segment -> classify every candidate in one batch -> decode the best path."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from classifier.model import NOT_A_DIGIT
from classifier.predict import CheckpointError, DigitClassifier
from segmentation import LineLayout, binarize, decode, geometric_skip_scores, propose
from seqdigits.errors import WeightsError
from seqdigits.image import DEFAULT_MAX_PIXELS, ImageInput, load_image
from seqdigits.reading import Alternative, Character, Reading

__all__ = ["Recognizer", "load_recognizer", "read"]




@dataclass(frozen=True, slots=True)
class _Prepared:
    layout: LineLayout
    width: int
    height: int


class Recognizer:
    """Reads lines of handwritten digits. Build one with :func:`load_recognizer` and reuse it.

    Thread-safe: ``read`` holds no state between calls.
    """

    def __init__(
        self,
        classifier: DigitClassifier,
        *,
        max_side: int = 1600,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        alternatives: int = 3,
        skip_bias: float = 2.0,
        min_confidence: float = 0.9,
    ) -> None:
        """``max_side``: longer side (px) images are shrunk to before segmentation;
        ``max_pixels``: decoding limit; ``alternatives``: per character;
        ``skip_bias``: log-odds a mark must exceed as "not a digit" to be left out;
        ``min_confidence``: readings less likely than this to be right get ``needs_review``."""
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within [0, 1], got {min_confidence}")
        self.classifier = classifier
        self.max_side = max_side
        self.max_pixels = max_pixels
        self.alternatives = alternatives
        self.skip_bias = skip_bias
        self.min_confidence = min_confidence

    def _prepare(self, image: ImageInput) -> _Prepared:
        gray = load_image(image, max_pixels=self.max_pixels)
        height, width = gray.shape
        scale = min(1.0, self.max_side / max(height, width))
        if scale < 1.0:
            gray = cv2.resize(gray, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
        layout = propose(binarize(gray), scale=scale)
        return _Prepared(layout=layout, width=width, height=height)

    def _reading(
        self, prepared: _Prepared, probs: npt.NDArray[np.float64], length: int | None, min_confidence: float
    ) -> Reading:
        layout = prepared.layout
        if layout.empty:
            return Reading(
                text="", confidence=0.0, characters=(), width=prepared.width, height=prepared.height,
                needs_review=min_confidence > 0.0,
            )
        digit_p = np.delete(probs, NOT_A_DIGIT, axis=1)
        best = digit_p.max(axis=1)
        scores = [math.log(max(float(p), 1e-12)) + c.prior for p, c in zip(best, layout.candidates)]
        # A whole component may be left out when the CNN calls it no digit, or when it is a small mark.
        skips = geometric_skip_scores(layout)
        for i, c in enumerate(layout.candidates):
            atom = layout.atoms[c.start]
            if c.end == c.start + 1 and not (atom.cut_left or atom.cut_right):
                rejected = math.log(max(float(probs[i, NOT_A_DIGIT]), 1e-12)) - self.skip_bias
                skips[c.start] = max(skips[c.start], rejected)
        path = decode(layout, scores, length=length, skip_scores=skips)
        characters = []
        for i in path:
            order = np.argsort(-digit_p[i])
            top = int(order[0])
            characters.append(
                Character(
                    digit=str(top),
                    confidence=float(digit_p[i, top]),
                    box=layout.candidates[i].box,
                    alternatives=tuple(
                        Alternative(digit=str(int(d)), confidence=float(digit_p[i, d])) for d in order[1 : 1 + self.alternatives]
                    ),
                )
            )
        text = "".join(c.digit for c in characters)
        confidence = float(np.prod([c.confidence for c in characters])) if characters else 0.0
        return Reading(
            text=text, confidence=confidence, characters=tuple(characters), width=prepared.width, height=prepared.height,
            needs_review=confidence < min_confidence,
        )

    def read(self, image: ImageInput, *, length: int | None = None, min_confidence: float | None = None) -> Reading:
        """Read one image: a path, encoded bytes, a PIL image or a uint8 array (gray, RGB, RGBA).

        ``length``: the number of digits expected; segmentation merges or
        splits to meet it when the evidence allows. Raises
        :class:`~seqdigits.errors.ImageError` subclasses for unusable input.
        ``min_confidence`` overrides the recognizer's review threshold.
        """
        return self.read_batch([image], length=length, min_confidence=min_confidence)[0]

    def read_batch(
        self, images: Sequence[ImageInput], *, length: int | None = None, min_confidence: float | None = None
    ) -> list[Reading]:
        """Read several images; the candidates of all of them go through the CNN in one forward pass."""
        if length is not None and length < 1:
            raise ValueError(f"length must be a positive number of digits, got {length}")
        threshold = self.min_confidence if min_confidence is None else min_confidence
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"min_confidence must be within [0, 1], got {threshold}")
        prepared = [self._prepare(image) for image in images]
        crops = [c.crop for p in prepared for c in p.layout.candidates]
        probs = self.classifier.classify_crops(crops)
        readings = []
        offset = 0
        for p in prepared:
            n = len(p.layout.candidates)
            readings.append(self._reading(p, probs[offset : offset + n], length, threshold))
            offset += n
        return readings


def load_recognizer(weights: str | os.PathLike[str] | None = None, **options: object) -> Recognizer:
    """Load the CNN (default: the weights shipped with the package) and return a :class:`Recognizer`.

    ``options`` are passed to :class:`Recognizer`. Raises :class:`~seqdigits.errors.WeightsError`.
    """
    try:
        classifier = DigitClassifier.load(weights)
    except CheckpointError as exc:
        raise WeightsError(str(exc)) from exc
    return Recognizer(classifier, **options)  # type: ignore[arg-type]


_default: Recognizer | None = None
_default_lock = threading.Lock()


def read(image: ImageInput, *, length: int | None = None, min_confidence: float | None = None) -> Reading:
    """One-off reading with a recognizer that is loaded on first use and then reused."""
    global _default
    with _default_lock:
        if _default is None:
            _default = load_recognizer()
        recognizer = _default
    return recognizer.read(image, length=length, min_confidence=min_confidence)
