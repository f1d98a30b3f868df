"""Draw a reading over its image: boxes, digits and confidences (for --debug-dir and the README)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from seqdigits.reading import Reading

__all__ = ["draw_reading"]


def _colour(confidence: float) -> tuple[int, int, int]:
    """BGR from red (0) through amber to green (1)."""
    c = min(max(confidence, 0.0), 1.0)
    return (40, int(60 + 160 * c), int(220 * (1 - c) + 30))


def draw_reading(gray: npt.NDArray[np.uint8], reading: Reading) -> npt.NDArray[np.uint8]:
    """uint8 (H, W) gray image -> uint8 (H', W, 3) BGR with each box, digit and confidence drawn.

    A band under the image carries the whole text and its confidence.
    """
    image = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    scale = max(0.4, min(image.shape[:2]) / 250.0)
    thick = max(1, round(scale * 1.5))
    for ch in reading.characters:
        b = ch.box
        colour = _colour(ch.confidence)
        cv2.rectangle(image, (b.x, b.y), (b.right - 1, b.bottom - 1), colour, thick)
        label = f"{ch.digit} {ch.confidence:.2f}"
        cv2.putText(image, label, (b.x, max(12, b.y - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, colour, thick, cv2.LINE_AA)
    band_h = max(24, round(28 * scale))
    band = np.full((band_h, image.shape[1], 3), 255, np.uint8)
    text = f"{reading.text or '(no digits)'}  conf {reading.confidence:.3f}"
    cv2.putText(band, text, (6, band_h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (0, 0, 0), thick, cv2.LINE_AA)
    return np.vstack([image, band])
