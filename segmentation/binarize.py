"""Gray image -> ink mask: polarity, illumination, thresholding, specks."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["Method", "binarize", "ink_is_dark", "is_blank", "sauvola_threshold"]

Method = Literal["auto", "otsu", "sauvola"]

#: Below this spread of gray levels (robust range, 0-255) an image holds no writing.
MIN_CONTRAST = 24.0
#: Most of the image a global (Otsu) threshold may call ink in "auto" mode before the local one
#: is used instead. On a phone photo the writing covers a few percent of the page, and a faint
#: shadow can look even enough to threshold globally; Otsu then splits the paper's own
#: gradient, calling a third of the page ink. (Line crops, 40-85 px writing, stay under 9 %.)
MAX_GLOBAL_INK = 0.15


def ink_is_dark(gray: npt.NDArray[np.uint8]) -> bool:
    """True for dark ink on light paper: paper is most of the page, so it sits on the median's side."""
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float((gray > threshold).mean()) >= 0.5


def is_blank(gray: npt.NDArray[np.uint8]) -> bool:
    """True when the image has too little contrast to hold any writing."""
    lo, hi = np.percentile(gray, [0.5, 99.5])
    return float(hi - lo) < MIN_CONTRAST


#: Largest background-opening kernel (px) run at full resolution. An opening's cost grows with its
#: kernel's side times the image's area (about 1 s for a 241 px kernel on 1600x1200), and the
#: background it estimates is smooth, so a larger one runs on a copy shrunk to make it
#: ``BACKGROUND_KERNEL // 2`` px and is scaled back up (4 ms there).
BACKGROUND_KERNEL = 63


def _flatten_background(ink: npt.NDArray[np.uint8], size: int) -> npt.NDArray[np.uint8]:
    """Subtract a background estimate (a morphological opening larger than any stroke)."""
    height, width = ink.shape
    if size <= BACKGROUND_KERNEL:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        background = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
    else:
        factor = (BACKGROUND_KERNEL // 2) / size
        small = cv2.resize(
            ink, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=cv2.INTER_AREA
        )
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (BACKGROUND_KERNEL // 2 | 1,) * 2)
        opened = cv2.morphologyEx(small, cv2.MORPH_OPEN, kernel)
        background = cv2.resize(opened, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.subtract(ink, background)


def sauvola_threshold(image: npt.NDArray[np.uint8], window: int, k: float = 0.2) -> npt.NDArray[np.float64]:
    """Sauvola's local threshold m * (1 + k * (s / R - 1)) over an odd ``window`` (px), with
    R = 127.5 (half the uint8 range); float64 (H, W). What ``skimage.filters.threshold_sauvola``
    computes, with OpenCV's box filter (several times faster; borders mirrored the same way)."""
    values = image.astype(np.float64)
    size = (window, window)
    mean = cv2.boxFilter(values, -1, size, borderType=cv2.BORDER_REFLECT_101)
    square = cv2.boxFilter(values * values, -1, size, borderType=cv2.BORDER_REFLECT_101)
    std = np.sqrt(np.clip(square - mean * mean, 0.0, None))
    return mean * (1.0 + k * (std / 127.5 - 1.0))


def binarize(
    gray: npt.NDArray[np.uint8],
    *,
    method: Method = "auto",
    dark_ink: bool | None = None,
    window: int | None = None,
) -> npt.NDArray[np.bool_]:
    """Ink mask of a gray image.

    ``gray``: uint8 (H, W). ``dark_ink``: None detects polarity. ``method``:
    "otsu" thresholds globally, "sauvola" locally (uneven light), "auto" picks
    Sauvola when the background varies across the page, or when a global threshold
    calls more than ``MAX_GLOBAL_INK`` of it ink. ``window``: Sauvola's
    odd window in pixels (default: a fifth of the shorter side). Returns bool
    (H, W), True on ink; all False for a blank page.
    """
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (H, W) image, got {gray.dtype} {gray.shape}")
    if gray.size == 0 or is_blank(gray):
        return np.zeros(gray.shape, bool)
    if method not in ("auto", "otsu", "sauvola"):
        raise ValueError(f"unknown method {method!r}")
    if dark_ink is None:
        dark_ink = ink_is_dark(gray)
    ink = cv2.bitwise_not(gray) if dark_ink else gray.copy()
    short = min(gray.shape)
    win = window or max(15, (short // 5) | 1)
    auto = method == "auto"
    if auto:
        # Paper brightness varies under a shadow or a gradient: look at the background alone.
        blurred = cv2.blur(ink, (win, win))
        lo, hi = np.percentile(blurred, [5, 95])
        method = "sauvola" if hi - lo > 40 else "otsu"
    if method == "otsu":
        _, mask = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        result = mask > 0
        if auto and result.mean() > MAX_GLOBAL_INK:
            method = "sauvola"
    if method == "sauvola":
        flat = _flatten_background(ink, win)
        if is_blank(flat):
            return np.zeros(gray.shape, bool)
        # Sauvola on the flattened image, confirmed by a global Otsu level to avoid paper texture.
        local = flat > sauvola_threshold(flat, win | 1)
        level, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        result = local & (flat > 0.5 * level)
    # A page that is mostly "ink" was mis-thresholded paper texture, not writing.
    if result.mean() > 0.5:
        return np.zeros(gray.shape, bool)
    return result
