"""Typed errors of the public API. Every one says what was wrong and what was expected."""

from __future__ import annotations

__all__ = [
    "CorruptImageError",
    "ImageError",
    "ImageNotFoundError",
    "ImageTooLargeError",
    "SeqdigitsError",
    "UnsupportedImageError",
    "WeightsError",
]


class SeqdigitsError(Exception):
    """Base class of every error seqdigits raises on purpose."""


class ImageError(SeqdigitsError, ValueError):
    """The input cannot be used as an image."""


class ImageNotFoundError(ImageError, FileNotFoundError):
    """The image path does not exist or is not a file."""


class UnsupportedImageError(ImageError):
    """The data is not an image in a format seqdigits reads (PNG, JPEG, HEIC, AVIF, GIF, BMP, TIFF, WebP, ...)."""


class CorruptImageError(ImageError):
    """The data looks like an image but cannot be decoded: empty, truncated or damaged."""


class ImageTooLargeError(ImageError):
    """The file or its pixel count is over the configured limit (decompression-bomb guard)."""


class WeightsError(SeqdigitsError):
    """The model weights are missing, unreadable, or not a seqdigits checkpoint."""
