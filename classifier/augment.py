"""Training-time distortions that make an MNIST digit look like a real pen on real paper.

Every function takes and returns uint8 (H, W) images, ink bright on black, and
draws its randomness from the ``numpy.random.Generator`` it is given, so a
training run is reproducible from its seed. The output is *not* normalized:
the caller passes it through :func:`classifier.preprocess.normalize_digit`,
exactly as inference does with a segmented crop.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "augment_digit",
    "make_fragment",
    "make_pair",
    "make_scribble",
    "upscale",
]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]

#: MNIST digits are upscaled by this factor before distortion, so strokes stay smooth.
UPSCALE = 3


def upscale(image: U8, pad: int = 12) -> U8:
    """28x28 MNIST digit -> (28*UPSCALE + 2*pad) square, linear interpolation."""
    big = cv2.resize(image, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_LINEAR)
    return cast(U8, cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0))


def _affine(image: U8, rng: np.random.Generator, *, rotate: float, shear: float, stretch: float) -> U8:
    h, w = image.shape
    angle = np.deg2rad(rng.uniform(-rotate, rotate))
    slant = rng.uniform(-shear, shear)
    sx = np.exp(rng.uniform(-stretch, stretch))
    sy = np.exp(rng.uniform(-stretch, stretch))
    c, s = np.cos(angle), np.sin(angle)
    linear = np.array([[c, -s], [s, c]]) @ np.array([[1.0, slant], [0.0, 1.0]]) @ np.diag([sx, sy])
    centre = np.array([w / 2.0, h / 2.0])
    offset = centre - linear @ centre
    matrix = np.hstack([linear, offset[:, None]])
    return cast(U8, cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0))


def _elastic(image: U8, rng: np.random.Generator, *, alpha: float, sigma: float) -> U8:
    h, w = image.shape
    dx = cast(F32, cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma))
    dy = cast(F32, cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma))
    norm = max(float(np.abs(dx).max()), float(np.abs(dy).max()), 1e-6)
    dx *= alpha / norm
    dy *= alpha / norm
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cast(U8, cv2.remap(image, xs + dx, ys + dy, cv2.INTER_LINEAR, borderValue=0))


def _stroke(image: U8, rng: np.random.Generator, *, max_radius: int) -> U8:
    radius = int(rng.integers(1, max_radius + 1))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    if rng.random() < 0.5:
        return cast(U8, cv2.dilate(image, kernel))
    thinner = cast(U8, cv2.erode(image, kernel))
    return thinner if int(thinner.astype(np.int64).sum()) > 0.3 * int(image.astype(np.int64).sum()) else image


def _break(image: U8, rng: np.random.Generator) -> U8:
    """Cut the stroke with a thin line of background: a pen that skipped."""
    ys, xs = np.nonzero(image > 127)
    if ys.size == 0:
        return image
    i = int(rng.integers(ys.size))
    angle = rng.uniform(0, np.pi)
    length = image.shape[0] * 0.15
    p0 = (int(xs[i] - length * np.cos(angle)), int(ys[i] - length * np.sin(angle)))
    p1 = (int(xs[i] + length * np.cos(angle)), int(ys[i] + length * np.sin(angle)))
    out = image.copy()
    cv2.line(out, p0, p1, 0, thickness=int(rng.integers(2, 5)))
    return out


def augment_digit(digit: U8, rng: np.random.Generator, *, strength: float = 1.0) -> U8:
    """Distort one 28x28 MNIST digit: rotation, slant, aspect, elastic, pen width, breaks, binarization."""
    image = upscale(digit)
    image = _affine(image, rng, rotate=12 * strength, shear=0.35 * strength, stretch=0.15 * strength)
    if rng.random() < 0.5 * strength:
        image = _elastic(image, rng, alpha=rng.uniform(2.0, 6.0) * strength, sigma=rng.uniform(5.0, 8.0))
    if rng.random() < 0.5 * strength:
        image = _stroke(image, rng, max_radius=3)
    if rng.random() < 0.08 * strength:
        image = _break(image, rng)
    if rng.random() < 0.5:
        # Segmentation hands over binary masks; half the time, train on those.
        threshold = int(rng.integers(64, 192))
        image = np.where(image > threshold, 255, 0).astype(np.uint8)
    return image


def make_pair(first: U8, second: U8, rng: np.random.Generator) -> U8:
    """Two digits side by side, gap from -35 % (overlap) to +15 % of a digit width: one crop, no single digit."""
    a = augment_digit(first, rng, strength=0.5)
    b = augment_digit(second, rng, strength=0.5)
    ca = np.flatnonzero(a.max(axis=0) > 64)
    cb = np.flatnonzero(b.max(axis=0) > 64)
    if ca.size == 0 or cb.size == 0:
        return a
    a = a[:, ca[0] : ca[-1] + 1]
    b = b[:, cb[0] : cb[-1] + 1]
    gap = int(rng.uniform(-0.35, 0.15) * 20 * UPSCALE)
    dy = int(rng.uniform(-0.15, 0.15) * a.shape[0])
    b = np.roll(b, dy, axis=0)
    width = max(a.shape[1] + gap + b.shape[1], a.shape[1], b.shape[1])
    out = np.zeros((a.shape[0], width), np.uint8)
    out[:, : a.shape[1]] = a
    start = max(0, a.shape[1] + gap)
    end = min(width, start + b.shape[1])
    out[:, start:end] = np.maximum(out[:, start:end], b[:, : end - start])
    return out


def make_fragment(digit: U8, rng: np.random.Generator) -> U8:
    """The left or right 30-55 % of a wide digit: what a wrong cut leaves behind.

    Pass only digits other than 1: a piece of a 1 is still a 1.
    """
    image = augment_digit(digit, rng, strength=0.5)
    cols = np.flatnonzero(image.max(axis=0) > 64)
    rows = np.flatnonzero(image.max(axis=1) > 64)
    if cols.size == 0:
        return image
    width = int(cols[-1] - cols[0] + 1)
    height = int(rows[-1] - rows[0] + 1)
    keep = max(1, int(width * rng.uniform(0.3, 0.55)))
    # A thin sliver would pass for a "1"; such pieces are not rejects.
    if keep < 0.45 * height:
        keep = min(width, int(0.45 * height) + 1)
    if rng.random() < 0.5:
        return image[:, cols[0] : cols[0] + keep]
    return image[:, cols[-1] + 1 - keep : cols[-1] + 1]


def make_scribble(rng: np.random.Generator, size: int = 96) -> U8:
    """A stray mark: a roughly horizontal dash, a dot, or a small arc (never a vertical bar)."""
    image = np.zeros((size, size), np.uint8)
    thickness = int(rng.integers(4, 12))
    kind = rng.integers(3)
    centre = (size // 2, size // 2)
    if kind == 0:
        angle = np.deg2rad(rng.uniform(-45, 45))
        half = rng.uniform(0.15, 0.45) * size
        dx, dy = half * np.cos(angle), half * np.sin(angle)
        cv2.line(image, (int(centre[0] - dx), int(centre[1] - dy)), (int(centre[0] + dx), int(centre[1] + dy)), 255, thickness)
    elif kind == 1:
        cv2.circle(image, centre, int(rng.integers(6, 20)), 255, -1)
    else:
        axes = (int(rng.uniform(0.2, 0.4) * size), int(rng.uniform(0.05, 0.2) * size))
        start = rng.uniform(0, 360)
        cv2.ellipse(image, centre, axes, rng.uniform(-30, 30), start, start + rng.uniform(60, 150), 255, thickness)
    return image
