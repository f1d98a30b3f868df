"""The one normalization used by training *and* inference: any digit crop -> MNIST format.

MNIST digits are white on black, scaled (aspect kept) so their longest side
is 20 px, and centred by centre of mass in a 28x28 frame. A crop from a photo
can be any size and drawn with any pen, so the stroke is first rescaled to the
width MNIST strokes have in that frame. Training runs every (augmented) MNIST
digit through :func:`normalize_digit` too, so both sides see the same function
with the same :class:`PreprocessConfig`, which is stored in the checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar, cast

import cv2
import numpy as np
import numpy.typing as npt

from segmentation import Atom, estimate_stroke_width

U8 = npt.NDArray[np.uint8]

__all__ = [
    "LineConfig",
    "PreprocessConfig",
    "estimate_stroke_width",
    "line_x",
    "normalize_batch",
    "normalize_digit",
    "normalize_line",
]


C = TypeVar("C", bound="_Constants")


class _Constants:
    """A frozen dataclass of constants that round-trips through a checkpoint as a plain dict."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """The constants in ``data``; keys this version does not know are ignored, missing ones keep their defaults."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True, slots=True)
class PreprocessConfig(_Constants):
    """Constants of the normalization; they travel inside the checkpoint.

    Lengths are in pixels of the output frame unless named ``work``.
    """

    frame: int = 28
    """Side of the square output image."""
    box: int = 20
    """Longest side of the digit inside the frame."""
    work: int = 80
    """Longest side of the binary working image where stroke width is adjusted."""
    stroke_width: float = 2.25
    """Target stroke width in frame pixels (MNIST's median, measured by ``seqdigits train``)."""
    stroke_tolerance: float = 0.15
    """Relative deviation from ``stroke_width`` that is left alone."""
    threshold: int = 96
    """Gray level (0-255) above which a pixel of a gray crop counts as ink."""



def _scale(image: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    shrinking = width < image.shape[1] or height < image.shape[0]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cast(U8, cv2.resize(image, (max(1, width), max(1, height)), interpolation=interpolation))


def _bbox(mask: npt.NDArray[np.bool_] | npt.NDArray[np.uint8]) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the nonzero pixels, ends exclusive; None when there are none."""
    left, top, width, height = cv2.boundingRect(mask.view(np.uint8))
    if width == 0:
        return None
    return top, top + height, left, left + width


def _adjust_stroke(binary: npt.NDArray[np.uint8], target: float, tolerance: float) -> npt.NDArray[np.uint8]:
    width = estimate_stroke_width(binary)
    if width == 0.0 or abs(width - target) <= tolerance * target:
        return binary
    radius = int(round((target - width) / 2.0))
    if radius > 0:
        # Cap growth so a thin, small loop (the eye of a 6 or 9) does not fill up.
        radius = min(radius, max(1, int(target)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        return cast(U8, cv2.dilate(binary, kernel))
    if radius < 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (-2 * radius + 1, -2 * radius + 1))
        thinner = cast(U8, cv2.erode(binary, kernel))
        # Thinning must never erase the digit or cut it into dust.
        if cv2.countNonZero(thinner) >= 0.35 * cv2.countNonZero(binary):
            return thinner
    return binary


def normalize_digit(
    crop: npt.NDArray[np.uint8], config: PreprocessConfig = PreprocessConfig()
) -> npt.NDArray[np.float32]:
    """Normalize one digit crop to MNIST format.

    ``crop`` is uint8 (H, W), ink bright on a dark (0) background: a binary
    mask or a gray image. Returns float32 (frame, frame) in [0, 1]; an empty
    crop gives all zeros.
    """
    if crop.ndim != 2:
        raise ValueError(f"crop must be 2-D (H, W), got shape {crop.shape}")
    frame = config.frame
    ink = crop > config.threshold
    box = _bbox(ink)
    if box is None:
        return np.zeros((frame, frame), np.float32)
    top, bottom, left, right = box
    gray = np.where(ink[top:bottom, left:right], crop[top:bottom, left:right], 0).astype(np.uint8)
    h, w = gray.shape

    # 1. Binary shape at a fixed working resolution, where pen width can be corrected.
    factor = config.work / max(h, w)
    work = _scale(gray, round(w * factor), round(h * factor))
    binary = cast(U8, cv2.threshold(work, 127, 255, cv2.THRESH_BINARY)[1])
    if not cv2.countNonZero(binary):
        binary = cast(U8, cv2.threshold(work, 0, 255, cv2.THRESH_BINARY)[1])
    pad = config.work // 4
    binary = cast(U8, cv2.copyMakeBorder(binary, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0))
    target = config.stroke_width * config.work / config.box
    binary = _adjust_stroke(binary, target, config.stroke_tolerance)

    # 2. Longest side to ``box`` pixels; INTER_AREA gives MNIST-like anti-aliased edges.
    top, bottom, left, right = _bbox(binary) or (0, binary.shape[0], 0, binary.shape[1])
    binary = binary[top:bottom, left:right]
    h, w = binary.shape
    factor = config.box / max(h, w)
    digit = _scale(binary, max(1, round(w * factor)), max(1, round(h * factor))).astype(np.float32) / 255.0

    # 3. Centre of mass to the frame's centre, with sub-pixel precision.
    moments = cv2.moments(digit)
    mass = float(moments["m00"])
    if mass <= 0.0:
        return np.zeros((frame, frame), np.float32)
    cy = float(moments["m01"]) / mass
    cx = float(moments["m10"]) / mass
    centre = (frame - 1) / 2.0
    shift = np.array([[1.0, 0.0, centre - cx], [0.0, 1.0, centre - cy]], dtype=np.float64)
    out = cv2.warpAffine(digit, shift, (frame, frame), flags=cv2.INTER_LINEAR, borderValue=0.0)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def normalize_batch(
    crops: list[npt.NDArray[np.uint8]], config: PreprocessConfig = PreprocessConfig()
) -> npt.NDArray[np.float32]:
    """Normalize several crops: float32 (N, frame, frame)."""
    out = np.zeros((len(crops), config.frame, config.frame), np.float32)
    for i, crop in enumerate(crops):
        out[i] = normalize_digit(crop, config)
    return out


@dataclass(frozen=True, slots=True)
class LineConfig(_Constants):
    """Constants of the whole-line normalization the line model reads; stored in its checkpoint."""

    height: int = 32
    """Rows of the output image."""
    digit_height: int = 24
    """What the line's typical digit height (``LineLayout.line_height``) is scaled to, in rows."""
    pad: int = 4
    """Blank columns left and right of the writing."""



def normalize_line(
    atoms: Sequence[Atom], line_height: float, config: LineConfig = LineConfig()
) -> npt.NDArray[np.uint8] | None:
    """The writing of one segmented line as the line model sees it: uint8 (height, W), ink 255.

    ``atoms``: a :class:`~segmentation.LineLayout`'s atoms (levelled, deslanted, furniture
    already left out); ``line_height``: its typical digit height in the same pixels. The
    line is scaled so a digit is ``digit_height`` rows tall and centred on the median centre
    of the atoms at least half a digit tall (a stray dot neither shrinks nor shifts it). Marks
    outside the band are clipped. None when there are no atoms.
    """
    if not atoms or line_height <= 0:
        return None
    tall = [a for a in atoms if a.box.height >= 0.5 * line_height] or list(atoms)
    centre = float(np.median([a.box.y + a.box.height / 2.0 for a in tall]))
    factor = config.digit_height / line_height
    left, right, width = _line_span(atoms, line_height, config)
    top = centre - config.height / 2.0 / factor
    rows, cols = int(math.ceil(config.height / factor)), int(math.ceil(right - left))
    oy, ox = int(math.floor(top)), int(math.floor(left))
    canvas = np.zeros((rows, cols), np.uint8)
    for atom in atoms:
        y, x = atom.box.y - oy, atom.box.x - ox
        y0, y1 = max(0, y), min(rows, y + atom.box.height)
        x0, x1 = max(0, x), min(cols, x + atom.box.width)
        if y1 > y0 and x1 > x0:
            canvas[y0:y1, x0:x1][atom.mask[y0 - y : y1 - y, x0 - x : x1 - x]] = 255
    return cast(U8, cv2.resize(canvas, (width, config.height), interpolation=cv2.INTER_AREA))


def _line_span(atoms: Sequence[Atom], line_height: float, config: LineConfig) -> tuple[float, float, int]:
    """Left and right (px, the atoms' frame) of what :func:`normalize_line` draws of a line, and
    the columns it draws them in."""
    factor = config.digit_height / line_height
    left = min(a.box.x for a in atoms) - config.pad / factor
    right = max(a.box.right for a in atoms) + config.pad / factor
    return left, right, max(8, int(math.ceil((right - left) * factor)))


def line_x(atoms: Sequence[Atom], line_height: float, config: LineConfig, column: float) -> float:
    """Where ``column`` (px from the left edge, fractions allowed) of :func:`normalize_line`'s
    image of a line stands in the atoms' frame (px)."""
    left, right, width = _line_span(atoms, line_height, config)
    # normalize_line draws from the pixel column left is in, math.ceil(right - left) columns wide.
    return math.floor(left) + column * math.ceil(right - left) / width
