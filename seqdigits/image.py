"""Decode any supported input, once, into the uint8 (H, W) gray array the pipeline works on."""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path
from typing import Any, NamedTuple, Union

import cv2
import numpy as np
import numpy.typing as npt
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from seqdigits.errors import CorruptImageError, ImageError, ImageNotFoundError, ImageTooLargeError, UnsupportedImageError

__all__ = ["DEFAULT_MAX_PIXELS", "Decoded", "ImageInput", "decode_image", "load_gray", "load_image", "to_gray"]

#: Pixel-count limit, checked from the header before any pixel is decoded.
DEFAULT_MAX_PIXELS = 50_000_000

ImageInput = Union[str, os.PathLike, bytes, bytearray, memoryview, Image.Image, npt.NDArray]  # noqa: UP007


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"image is {width}x{height} = {width * height:,} pixels, over the limit of {max_pixels:,}"
        )


def decode_image(
    data: bytes | bytearray | memoryview, *, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int | None = None
) -> Image.Image:
    """Decode encoded image bytes into a PIL image, upright per its EXIF orientation.

    ``min_side``: a JPEG may come out at 1/2, 1/4 or 1/8 of its size, decoded so by its own
    DCT scaling (several times cheaper than decoding a phone photo whole and shrinking it),
    as long as its longer side stays at least this many pixels; None decodes it whole.
    Raises :class:`CorruptImageError` (empty, truncated, damaged),
    :class:`UnsupportedImageError` (not an image) or :class:`ImageTooLargeError`.
    """
    return _decode(data, max_pixels=max_pixels, min_side=min_side)[0]


def _decode(
    data: bytes | bytearray | memoryview, *, max_pixels: int, min_side: int | None
) -> tuple[Image.Image, tuple[int, int]]:
    """:func:`decode_image`, and the (width, height) the upright image has at full size."""
    raw = bytes(data)
    if not raw:
        raise CorruptImageError("the image is empty (0 bytes)")
    if _brand(raw) in _HEIF_BRANDS:
        return _decode_heif(raw, max_pixels=max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            _check_pixels(image.width, image.height, max_pixels)
            full = image.size
            if min_side is not None and image.format == "JPEG" and max(full) > min_side:
                factor = min_side / max(full)
                image.draft(image.mode, (math.ceil(full[0] * factor), math.ceil(full[1] * factor)))
            decoded = image.size
            # Pillow keeps a 16-bit colour PNG's or TIFF's high bytes (its modes are 8 bits a channel).
            deep = image.mode in ("RGB", "RGBA") and any(";16" in str(tile.args) for tile in image.tile)
            image.load()
            pixels = _low_bytes(raw, image) if deep and not np.asarray(image)[:, :, :3].any() else image
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(f"image is over the limit of {max_pixels:,} pixels (a decompression bomb?): {exc}") from exc
    except UnidentifiedImageError as exc:
        if _brand(raw) in _AVIF_BRANDS:  # Pillow knows AVIF, but not this file's end
            raise CorruptImageError("the AVIF image data is truncated or damaged") from exc
        raise UnsupportedImageError(
            "not a recognised image: expected PNG, JPEG, HEIC, AVIF, GIF, BMP, TIFF or WebP data"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImageError(f"the image data is truncated or damaged: {exc}") from exc
    upright = _upright(pixels, own=True)
    # Turned a quarter by its EXIF orientation: the full size turns too.
    return upright, (full if upright.size == decoded else (full[1], full[0]))


def _upright(image: Image.Image, *, own: bool) -> Image.Image:
    """``image`` turned upright per its EXIF orientation; as it is where it has none, or a broken
    EXIF block (which must not lose the picture). ``own``: an image decoded here, turned in place;
    a caller's image is never changed. Without an orientation no copy is made either way (Pillow's
    own ``exif_transpose`` copies the image then: a 12 MP photo's pixels, about 4 ms)."""
    try:
        if image.getexif().get(ExifTags.Base.Orientation, 1) == 1:
            return image
        if own:
            ImageOps.exif_transpose(image, in_place=True)
            return image
        return ImageOps.exif_transpose(image) or image
    except Exception:
        return image


#: ISO base media file brands of HEIF stills (``ftyp`` box, bytes 8-12): what phones save
#: (iPhones' default "High Efficiency" photos are ``heic``), and the generic ``mif1``/``msf1``.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"})


#: Brands of AVIF stills and sequences, which Pillow decodes itself (from 11.3 on).
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def _low_bytes(raw: bytes, image: Image.Image) -> Image.Image:
    """A 16-bit colour image whose colour values never pass 255 (8-bit values saved 16 bits deep,
    whose high bytes, all Pillow keeps, are all 0: a black page read blank), as those values;
    ``image``: Pillow's decoding of ``raw``, returned as it is where OpenCV cannot decode it.
    The EXIF orientation travels with it, for :func:`ImageOps.exif_transpose`."""
    try:
        deep = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return image
    if deep is None or deep.dtype != np.uint16 or deep.shape[:2] != (image.height, image.width) or deep.ndim != 3:
        return image
    channels = deep.shape[2]
    if (channels, image.mode) not in ((3, "RGB"), (4, "RGBA")):
        return image
    colour = cv2.cvtColor(deep, cv2.COLOR_BGR2RGB if channels == 3 else cv2.COLOR_BGRA2RGBA)
    low = Image.fromarray(_eight_bits(colour), mode=image.mode)
    low.info["exif"] = image.getexif().tobytes()
    return low


def _eight_bits(values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """uint16 pixels (H, W), (H, W, 3) or (H, W, 4), RGB(A), as 8-bit ones: their high bytes, but
    where the colour values never pass 255 (8-bit values saved 16 bits deep), those values (and an
    alpha channel that passes 255 its high byte: it has a depth of its own)."""
    colour = values[:, :, :3] if values.ndim == 3 else values
    if int(colour.max()) > 255:
        return (values >> 8).astype(np.uint8)
    eight = values.astype(np.uint8)
    if values.ndim == 3 and values.shape[2] == 4 and int(values[:, :, 3].max()) > 255:
        eight[:, :, 3] = values[:, :, 3] >> 8
    return eight


def _brand(raw: bytes) -> bytes:
    """The major brand of an ISO base media file (HEIF, AVIF; bytes 8-12 of its ``ftyp`` box), or b"" for other data."""
    return raw[8:12] if raw[4:8] == b"ftyp" else b""


def _decode_heif(raw: bytes, *, max_pixels: int) -> tuple[Image.Image, tuple[int, int]]:
    """A HEIF/HEIC image decoded whole (libheif has no reduced decode), and its (width, height).
    It comes out upright: libheif applies the container's rotation and mirroring (HEIF's
    orientation), and pillow-heif sets the EXIF orientation it passes on to 1."""
    # Imported here: most callers never see a HEIC file, and the import costs about 40 ms.
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(io.BytesIO(raw), convert_hdr_to_8bit=True)
        _check_pixels(heif.size[0], heif.size[1], max_pixels)
        image = heif.to_pillow()
        image.load()
    except ImageError:
        raise
    except (ValueError, RuntimeError, OSError, EOFError, KeyError) as exc:
        raise CorruptImageError(f"the HEIC image data is truncated or damaged: {exc}") from exc
    return image, image.size


def to_gray(image: Image.Image) -> npt.NDArray[np.uint8]:
    """PIL image of any mode -> uint8 (H, W) luminance; transparency is laid over white paper
    (black under light strokes drawn on a transparent canvas, see :func:`_paper_for`). 16-bit
    pixels that never pass 255 are 8-bit values, float pixels that never pass 1.0 lie in [0, 1]."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        lo, hi = float(values.min()), float(values.max())
        if mode == "F" and hi <= 1.0:
            top = 1.0  # floats in [0, 1], as arrays of floats are read
        elif mode.startswith("I;16") and hi > 255:
            top = 65535.0
        else:
            # (16-bit pixels that never pass 255 are 8-bit values saved 16 bits deep: scaled by
            # 65 535 they were all black, and the page read blank.)
            top = hi if hi > 255 else 255.0
        low = 0.0 if lo >= 0 else lo
        return np.clip((values - low) / max(top - low, 1e-9) * 255.0, 0, 255).astype(np.uint8)
    if mode == "P":
        image = image.convert("RGBA")
    elif mode in ("LA", "PA", "La"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "RGBa"):
        image = image.convert("RGBA")
        paper = Image.new("RGBA", image.size, _paper_for(image))
        image = Image.alpha_composite(paper, image)
    if image.mode == "L":
        return np.asarray(image, dtype=np.uint8).copy()
    rgb = image if image.mode == "RGB" else image.convert("RGB")  # (convert copies an RGB image)
    return _ink_contrast(np.asarray(rgb, dtype=np.uint8), np.asarray(rgb.convert("L"), dtype=np.uint8))


def _paper_for(image: Image.Image) -> tuple[int, int, int, int]:
    """The colour to lay an RGBA image on: white, unless what is drawn is light strokes on a
    transparent canvas (as dark-mode drawing apps export them), which white paper would hide.

    Strokes: under half the image opaque, light on average, and either sparse within their
    bounding box or of one colour; a piece of paper with ink on it is neither, and stays on white.
    """
    rgba = np.asarray(image, dtype=np.uint8)
    step = max(1, int(np.sqrt(rgba.shape[0] * rgba.shape[1] / 250_000)))
    sample = rgba[::step, ::step]
    alpha = sample[:, :, 3].astype(np.float64) / 255.0
    solid = alpha >= 0.5
    if alpha.mean() >= 0.5 or not solid.any():
        return _WHITE
    luma = sample[:, :, :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    if float((luma * alpha).sum() / alpha.sum()) <= 127.5:
        return _WHITE
    rows, cols = np.flatnonzero(solid.any(axis=1)), np.flatnonzero(solid.any(axis=0))
    fill = solid.sum() / ((rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1))
    uniform = float(luma[solid].std()) < 16.0
    return (0, 0, 0, 255) if fill < 0.5 or uniform else _WHITE


_WHITE = (255, 255, 255, 255)


def _separation(gray: npt.NDArray[np.uint8]) -> float:
    """Otsu's between-class variance: how well one threshold splits ink from paper."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    hist /= max(hist.sum(), 1.0)
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    total = m0[-1]
    w1 = 1.0 - w0
    valid = (w0 > 1e-6) & (w1 > 1e-6)
    between = np.zeros(256)
    between[valid] = (total * w0[valid] - m0[valid]) ** 2 / (w0[valid] * w1[valid])
    return float(between.max())


def _ink_contrast(rgb: npt.NDArray[np.uint8], luminance: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Gray image in which the ink stands out most.

    Luminance, unless one colour channel separates ink from paper clearly
    better: red ink on pink paper, blue ink under a yellow lamp.
    """
    step = max(1, int(np.sqrt(luminance.size / 250_000)))
    best, best_score = luminance, _separation(luminance[::step, ::step])
    for c in range(3):
        channel = rgb[:, :, c]
        score = _separation(channel[::step, ::step])
        if score > 1.5 * best_score:
            best, best_score = np.ascontiguousarray(channel), score
    return best


def _array_to_gray(array: npt.NDArray) -> npt.NDArray[np.uint8]:
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or a.size == 0:
        raise UnsupportedImageError(f"expected an array of shape (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    # Complex numbers, strings, dates and Python objects are no pixel values (numpy would cast
    # complex ones silently and fail on the others with errors of its own).
    if not (a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise UnsupportedImageError(f"expected an array of bool, integer or float pixels, got dtype {a.dtype}")
    if a.dtype == np.bool_:
        a = np.where(a, 255, 0).astype(np.uint8)
    elif a.dtype == np.uint16:
        a = _eight_bits(a)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise CorruptImageError("the image array holds NaN or infinite values")
        scale = 255.0 if a.max() <= 1.0 else 1.0
        a = np.clip(a * scale, 0, 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        return np.ascontiguousarray(a)
    # Arrays arrive in RGB(A) order, as from PIL or imageio.
    mode = "RGBA" if a.shape[2] == 4 else "RGB"
    return to_gray(Image.fromarray(np.ascontiguousarray(a), mode=mode))


class Decoded(NamedTuple):
    """An image as :func:`load_gray` gives it: ``gray`` uint8 (h, w), perhaps decoded at a
    reduced size, and the ``height`` and ``width`` of the full image in pixels."""

    gray: npt.NDArray[np.uint8]
    height: int
    width: int


def load_image(source: ImageInput, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> npt.NDArray[np.uint8]:
    """Any supported input -> uint8 (H, W) gray.

    ``source``: a path, encoded bytes, a PIL image, or a numpy array (gray,
    RGB or RGBA; uint8, uint16, bool or float in [0, 1]).
    """
    return load_gray(source, max_pixels=max_pixels).gray


def load_gray(source: ImageInput, *, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int | None = None) -> Decoded:
    """:func:`load_image`, but a JPEG given as a path or bytes may be decoded at a reduced size
    whose longer side is still at least ``min_side`` (see :func:`decode_image`); the result
    says the full size too."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            raise ImageNotFoundError(f"{path} is a directory, not an image file")
        if not path.is_file():
            raise ImageNotFoundError(f"no such image file: {path}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageError(f"cannot read {path}: {exc}") from exc
        return _decoded(*_decode(data, max_pixels=max_pixels, min_side=min_side))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decoded(*_decode(source, max_pixels=max_pixels, min_side=min_side))
    if isinstance(source, Image.Image):
        _check_pixels(source.width, source.height, max_pixels)
        if source.width == 0 or source.height == 0:
            raise CorruptImageError(f"the image is empty ({source.width} x {source.height} pixels)")
        gray = to_gray(_upright(source, own=False))
    elif isinstance(source, np.ndarray):
        if source.ndim >= 2:
            _check_pixels(int(source.shape[1]), int(source.shape[0]), max_pixels)
        gray = _array_to_gray(source)
    else:
        raise UnsupportedImageError(f"cannot read an image from {type(source).__name__}; pass a path, bytes, a PIL image or an array")
    return Decoded(gray, gray.shape[0], gray.shape[1])


def _decoded(image: Image.Image, full: tuple[int, int]) -> Decoded:
    return Decoded(to_gray(image), full[1], full[0])
