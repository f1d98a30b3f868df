"""Make a synthetic line look photographed: ink and paper colour, light, optics, compression.

:func:`photograph` turns the gray ``image`` of a :class:`~datasets.synth.SyntheticLine`
into an RGB photo with the same digits at the same places, so its ground
truth (text and boxes) still holds. ``strength`` in [0, 1] scales every
degradation; 0 only colours ink and paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from datasets.synth import SyntheticLine
from segmentation.types import Box

__all__ = ["INKS", "Photo", "enlarge", "photograph"]

#: Pen colours (RGB): black, blue ballpoint, blue-black, red, green, pencil gray.
INKS: tuple[tuple[int, int, int], ...] = ((25, 25, 30), (30, 50, 170), (20, 30, 80), (180, 30, 35), (30, 110, 50), (90, 90, 95))


@dataclass(frozen=True, slots=True)
class Photo:
    """``image``: uint8 (H, W, 3) RGB; ``text`` and ``boxes`` as in the source line."""

    image: npt.NDArray[np.uint8]
    text: str
    boxes: tuple


def photograph(line: SyntheticLine, rng: np.random.Generator, *, strength: float = 0.5) -> Photo:
    """Render ``line`` as a phone photo of paper; see the module doc.

    Form furniture (a field's box, a rule) belongs to the paper, so it is drawn
    with the line, before any tilt: see ``SynthConfig.furniture``.
    """
    gray = line.image.astype(np.float64)
    # Ink coverage from the synthetic gray image, whatever its polarity.
    paper_level = float(np.median(gray))
    coverage = np.abs(gray - paper_level)
    coverage = np.clip(coverage / max(coverage.max(), 1.0), 0.0, 1.0)
    h, w = coverage.shape

    ink = np.array(INKS[int(rng.integers(len(INKS)))], np.float64)
    paper = np.array([rng.uniform(200, 250), rng.uniform(195, 245), rng.uniform(170, 240)])
    image = paper[None, None, :] * (1 - coverage[:, :, None]) + ink[None, None, :] * coverage[:, :, None]

    if strength > 0:
        # Light: a shadow across the page and a vignette.
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(angle) * xs / w + np.sin(angle) * ys / h)
        ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-9)
        shade = 1.0 - strength * rng.uniform(0.2, 0.55) * ramp
        vignette = 1.0 - strength * 0.25 * (((xs - w / 2) / w) ** 2 + ((ys - h / 2) / h) ** 2) * 2
        image *= (shade * vignette)[:, :, None]
        # Optics and sensor: blur, then noise.
        sigma = strength * rng.uniform(0.3, 1.4)
        if sigma > 0.2:
            image = cv2.GaussianBlur(image, (0, 0), sigma)
        image += rng.normal(0.0, strength * rng.uniform(2.0, 9.0), image.shape)
    out = np.clip(np.round(image), 0, 255).astype(np.uint8)
    if strength > 0:
        quality = int(np.clip(95 - strength * rng.uniform(20, 60), 30, 95))
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
        if decoded is not None:
            out = cast("npt.NDArray[np.uint8]", cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))
    return Photo(image=out, text=line.text, boxes=line.boxes)


def enlarge(photo: Photo, rng: np.random.Generator, *, width: int = 4032, noise: float = 3.0) -> Photo:
    """``photo`` as a phone camera stores the same scene: ``width`` px wide (4032: a 12 MP
    sensor), the aspect kept, with the sensor's own noise (standard deviation ``noise`` gray
    levels) at that resolution; boxes scaled alike. Pair it with a wide margin
    (``SynthConfig.margin``) for a page that the writing only partly fills."""
    h, w = photo.image.shape[:2]
    factor = width / w
    height = max(1, round(h * factor))
    big = cv2.resize(photo.image, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    big += np.asarray(rng.normal(0.0, noise, big.shape), dtype=np.float32)
    boxes = tuple(
        Box(round(b.x * factor), round(b.y * factor), max(1, round(b.width * factor)), max(1, round(b.height * factor)))
        for b in photo.boxes
    )
    return Photo(image=np.clip(np.round(big), 0, 255).astype(np.uint8), text=photo.text, boxes=boxes)
