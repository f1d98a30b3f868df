"""Gray image -> ink mask: polarity, illumination, thresholding, specks."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Literal, TypeVar, cast

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_SPECK",
    "PAPER_MARGIN",
    "Method",
    "binarize",
    "faint_grid",
    "ink_is_dark",
    "is_blank",
    "sauvola_threshold",
    "shrunk",
    "writing_region",
]

Method = Literal["auto", "otsu", "sauvola"]

#: Below this spread of gray levels (robust range, 0-255) an image holds no writing.
MIN_CONTRAST = 24.0
#: Faint writing on a clean page spans less than MIN_CONTRAST: a light pencil, faded ink, an
#: over-exposed photo. It counts where its spread is at least MIN_FAINT, FAINT_SNR times the
#: paper's pixel noise (the 0.5-99.5 % spread of noise alone is about 5 times it), and its edges
#: sharp: the page less its 5 x 5 mean reaches FAINT_EDGE of the spread, which the soft edge of a
#: stain, a shadow or a fold in the paper does not (see _faint_writing).
MIN_FAINT = 12.0
FAINT_SNR = 8.0
FAINT_EDGE = 0.15
#: FAINT_SNR on a page flattened under a shadow (see _binarize): its paper is at 0 and its noise
#: cut off below, so less of it is measured. Flattened blank photos (shadow, vignette, blur, noise,
#: JPEG) spread up to 9.7 times the noise measured there, faint writing 17 times and more (95 %).
FLAT_FAINT_SNR = 14.0
#: How many pixels (the darkest, and the lightest) a second look at a page's range takes for
#: writing (see :func:`is_blank`): the tests' 5-digit numbers 20 px tall have 200-250 px of ink.
BLANK_TAIL = 40
#: A global threshold that calls between ``0.5 - AMBIGUOUS_SPLIT`` and ``0.5 + AMBIGUOUS_SPLIT``
#: of the page light says nothing of which side is paper (see :func:`ink_is_dark`): on a
#: shaded page with little ink it splits the shading. (It calls at most 8.5 % of a validation
#: photo's line crop ink: see MAX_GLOBAL_INK.)
AMBIGUOUS_SPLIT = 0.15
#: Most of the image a global (Otsu) threshold may call ink in "auto" mode before the local one
#: is used instead. On a phone photo the writing covers a few percent of the page, and a faint
#: shadow can look even enough to threshold globally; Otsu then splits the paper's own
#: gradient, calling a third of the page ink. (Line crops, 40-85 px writing, stay under 9 %.)
MAX_GLOBAL_INK = 0.15
#: Paper kept around the writing when a page is binarized a second time, in heights of its
#: tallest mark: the training lines' widest margin (0.8 digit heights), so that a line cropped
#: as those were is binarized as it was in training.
PAPER_MARGIN = 0.8


def ink_is_dark(gray: npt.NDArray[np.uint8]) -> bool:
    """True for dark ink on light paper: paper is most of the page, so it sits on the median's
    side. Where a global threshold splits the page near half and half (``AMBIGUOUS_SPLIT``), it
    split the paper's own shading, not ink from paper: the ink is then what stands out twice as
    far (its ``BLANK_TAIL`` px) from the paper's level around it (:func:`_local_median`) as the
    other side does."""
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light = float((gray > threshold).mean())
    tail = min(BLANK_TAIL, gray.size // 4)
    if abs(light - 0.5) >= AMBIGUOUS_SPLIT or tail < 1:
        return light >= 0.5
    around = _local_median(gray)
    darker, lighter = (np.asarray(cv2.subtract(a, b), np.uint8) for a, b in ((around, gray), (gray, around)))
    darkest, lightest = _tail_level(darker, tail), _tail_level(lighter, tail)
    # Bold writing over much of a shaded page makes the paper beside it stand out as far: there
    # the split's own side stands.
    if max(darkest, lightest) < 2 * min(darkest, lightest):
        return light >= 0.5
    return darkest > lightest


#: Side (px) of the copy :func:`_local_median` takes its median on: OpenCV's median filter is fast
#: up to a 255 px window, and seconds at a 1 200 px one.
_MEDIAN_SIDE = 127


def _local_median(gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The paper's level around each pixel: the median over a window as wide as the image's
    shorter side, uint8 (H, W). Ink, a small part of any window that wide, does not move a
    median, where it pulls a mean toward it. Taken on a copy whose shorter side is at most
    ``_MEDIAN_SIDE`` px: the paper's light changes slowly."""

    def median(small: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        return cast("npt.NDArray[np.uint8]", cv2.medianBlur(small, max(3, min(small.shape) | 1)))

    return _at_scale(gray, min(1.0, _MEDIAN_SIDE / min(gray.shape)), median)


def _at_scale(
    image: npt.NDArray[np.uint8], factor: float, smooth: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]
) -> npt.NDArray[np.uint8]:
    """``smooth`` (a filter whose output changes slowly, uint8 (h, w) in and out) of ``image`` run
    on a copy shrunk by ``factor`` (area-averaged) and scaled back up (bilinear); at a ``factor``
    of 1 or more, on ``image`` itself."""
    if factor >= 1.0:
        return smooth(image)
    height, width = image.shape
    smoothed = smooth(shrunk(image, factor))
    return cv2.resize(smoothed, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.uint8, copy=False)


def shrunk(image: npt.NDArray[np.uint8], factor: float) -> npt.NDArray[np.uint8]:
    """``image`` (uint8 (H, W)) scaled by ``factor`` < 1, area-averaged, at least 1 px each way."""
    height, width = image.shape
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cast("npt.NDArray[np.uint8]", cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def _counts(values: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """How many of uint8 ``values`` (any shape) stand at each level: int64 (256,)."""
    if values.size < 1 << 24:  # (OpenCV counts in float32: exact below 2**24)
        return cv2.calcHist([np.ascontiguousarray(values)], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    return np.bincount(values.ravel(), minlength=256)


def _tail_level(values: npt.NDArray[np.uint8], tail: int) -> int:
    """The level that more than ``tail`` of ``values`` (uint8, any shape) reach: the
    ``tail + 1``-th highest."""
    return 255 - int(np.searchsorted(np.cumsum(_counts(values)[::-1]), tail, side="right"))


def _floor_level(values: npt.NDArray[np.uint8], tail: int) -> int:
    """The level that more than ``tail`` of ``values`` (uint8, any shape) stay at or under: the
    ``tail + 1``-th lowest."""
    return int(np.searchsorted(np.cumsum(_counts(values)), tail, side="right"))


def _percentiles(values: npt.NDArray[np.uint8], qs: tuple[float, ...]) -> tuple[float, ...]:
    """``np.percentile(values, qs)`` (its linear interpolation, to the bit) of uint8 ``values``
    (any shape; none: 0.0 each, where numpy raises), found in their histogram: a page's pixels
    are not sorted (on a 12 MP photo's measuring copy, numpy's partial sorts cost about 8 ms)."""
    at_or_under = np.cumsum(_counts(values))  # how many values stand at each level or under it
    n = int(at_or_under[-1])

    def level(k: int) -> float:  # the (k + 1)-th lowest value
        return float(np.searchsorted(at_or_under, k, side="right"))

    out = []
    for q in qs:
        at = (n - 1) * (q / 100)
        if at >= n - 1:
            out.append(level(n - 1))
            continue
        low = math.floor(at)
        a, b, t = level(low), level(low + 1), at - low
        # numpy's lerp: from the nearer end
        out.append(a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t))
    return tuple(out)


def _off_local_mean(source: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """How far each pixel of ``source`` (float32 (H, W)) lies from its 5 x 5 mean: a sharp edge
    stands far off it, pixel noise a little, soft shading (a stain, a shadow, a fold) hardly."""
    return np.abs(source - cv2.blur(source, (5, 5)))


def is_blank(gray: npt.NDArray[np.uint8], *, faint: bool = True) -> bool:
    """True when the image has too little contrast to hold any writing: its gray levels' range
    without the darkest and lightest 0.5 % is under ``MIN_CONTRAST``, and, once a 3 x 3 blur has
    evened out pixel noise, its darkest and lightest ``BLANK_TAIL`` px stand under
    ``MIN_CONTRAST`` beyond that range. The second look finds writing that covers far less than
    0.5 % of a page (a number small in a phone photo), and not the paper's own grain, whose
    most extreme pixels stand close to its 0.5 % range. With ``faint``, a range under
    ``MIN_CONTRAST`` still holds writing where it is faint writing on a clean page (see
    :data:`MIN_FAINT`): a light pencil, faded ink, an over-exposed photo."""
    return _contrast(gray, FAINT_SNR if faint else None) == "blank"


def _contrast(gray: npt.NDArray[np.uint8], faint_snr: float | None) -> Literal["blank", "faint", "writing"]:
    """:func:`is_blank`'s verdict, and whether what is written is faint writing (a spread under
    ``MIN_CONTRAST``) sought at ``faint_snr`` times the noise (None: not sought)."""
    lo, hi = _percentiles(gray, (0.5, 99.5))
    spread = float(hi - lo)
    if spread >= MIN_CONTRAST:
        return "writing"
    if faint_snr is not None and _faint_writing(gray, spread, faint_snr):
        return "faint"
    smooth = np.asarray(cv2.blur(gray, (3, 3)), np.uint8) if min(gray.shape) >= 3 else gray
    if 2 * BLANK_TAIL >= smooth.size:
        return "blank"
    darkest = _floor_level(smooth, BLANK_TAIL)
    lightest = _tail_level(smooth, BLANK_TAIL)
    return "writing" if max(float(lo) - darkest, lightest - float(hi)) >= MIN_CONTRAST else "blank"


def _faint_writing(gray: npt.NDArray[np.uint8], spread: float, snr: float) -> bool:
    """Whether a page whose gray levels spread ``spread`` (0.5 to 99.5 %, under
    ``MIN_CONTRAST``) holds faint writing: a spread of at least ``MIN_FAINT`` that is ``snr``
    times the paper's pixel noise or more, with sharp edges (``FAINT_EDGE``).

    Both measured on the page less its 5 x 5 mean: the noise as the median distance from it
    (robust: the writing is a small part of the page), the edges as its 99.5th percentile,
    which faded photos of handwritten digits reach at a fifth to a third of their spread, and
    a soft stain, shadow or fold in the paper, noise-free, at under a tenth."""
    if spread < MIN_FAINT or min(gray.shape) < 5:
        return False
    source = gray.astype(np.float32)
    residual = _off_local_mean(source)
    # The statistics on at most ~250 000 px: a phone photo has millions.
    step = max(1, int(math.sqrt(gray.size / 250_000)))
    sample = residual[::step, ::step]
    noise = 1.4826 * float(np.median(sample))
    return spread >= snr * noise and float(np.percentile(sample, 99.5)) >= FAINT_EDGE * spread


#: Largest background-opening kernel (px) run at full resolution. An opening's cost grows with its
#: kernel's side times the image's area (about 1 s for a 241 px kernel on 1600x1200), and the
#: background it estimates is smooth, so a larger one runs on a copy shrunk to make it
#: ``BACKGROUND_KERNEL // 2`` px and is scaled back up (4 ms there).
BACKGROUND_KERNEL = 63


#: The background opening is at least this many times as wide as the thickest stroke. A stroke
#: (or a marker's blob where strokes meet) as wide as the opening survives it, is subtracted as
#: paper, and the digit comes out hollow or in pieces.
STROKE_MARGIN = 2.5


@lru_cache(maxsize=64)
def _disc_rectangles(size: int) -> tuple[npt.NDArray[np.uint8], ...] | None:
    """OpenCV's ``size`` px elliptic structuring element as the union of centred rectangles, one
    per half-width its rows take (for each, the band of rows at least that wide); None where the
    ellipse is not symmetric about its centre (an even ``size``)."""
    if size % 2 == 0:
        return None
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    centre = size // 2
    half = {row - centre: centre - int(np.flatnonzero(disc[row])[0]) for row in range(size) if disc[row].any()}
    union = np.zeros_like(disc)
    rectangles = []
    for width in sorted(set(half.values())):
        band = max(abs(dy) for dy, w in half.items() if w >= width)
        union[centre - band : centre + band + 1, centre - width : centre + width + 1] = 1
        rectangle = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * width + 1, 2 * band + 1))
        rectangles.append(cast("npt.NDArray[np.uint8]", rectangle))
    return tuple(rectangles) if np.array_equal(union, disc) else None


def _disc_open(image: npt.NDArray[np.uint8], size: int) -> npt.NDArray[np.uint8]:
    """``cv2.morphologyEx(image, MORPH_OPEN, <size px ellipse>)``, the same pixels: erosion and
    dilation by a union of shapes are the minimum and maximum of those by each (the image's
    outside never counts, for either), and OpenCV's rectangles are separable, where its ellipse
    costs its area at every pixel (an opening of a 5-digit photo 0.48 -> 0.30 ms)."""
    rectangles = _disc_rectangles(size)
    if rectangles is None:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        return cast("npt.NDArray[np.uint8]", cv2.morphologyEx(image, cv2.MORPH_OPEN, disc))
    eroded = cv2.erode(image, rectangles[0])
    for rectangle in rectangles[1:]:
        cv2.min(eroded, cv2.erode(image, rectangle), dst=eroded)
    opened = cv2.dilate(eroded, rectangles[0])
    for rectangle in rectangles[1:]:
        cv2.max(opened, cv2.dilate(eroded, rectangle), dst=opened)
    return cast("npt.NDArray[np.uint8]", opened)


def _opening(image: npt.NDArray[np.uint8], size: int, *, extend: bool) -> npt.NDArray[np.uint8]:
    """Grey opening by a ``size`` px disc; with ``extend``, the image's edges extended outwards
    first: OpenCV extends each of the two passes on its own, which leaves a shadow's slope under
    the opening near an edge (by up to the slope times the disc's radius)."""
    if not extend:
        return _disc_open(image, size)
    pad = size // 2 + 1
    padded = cast("npt.NDArray[np.uint8]", cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE))
    return _disc_open(padded, size)[pad:-pad, pad:-pad]


def _subtract_opening(ink: npt.NDArray[np.uint8], size: int, *, extend: bool = False) -> npt.NDArray[np.uint8]:
    """``ink`` less its opening by a ``size`` px disc (the paper's own level)."""
    if size <= BACKGROUND_KERNEL:
        background = _opening(ink, size, extend=extend)
    else:
        factor, kernel = (BACKGROUND_KERNEL // 2) / size, BACKGROUND_KERNEL // 2 | 1
        background = _at_scale(ink, factor, lambda small: _opening(small, kernel, extend=extend))
    return cv2.subtract(ink, background).astype(np.uint8, copy=False)


def _ink_mask(flat: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Global Otsu mask (uint8 (H, W), 0 or 255) of a flattened ink image (ink bright)."""
    _, mask = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return mask.astype(np.uint8, copy=False)


def _thickest_stroke(mask: npt.NDArray[np.uint8]) -> float:
    """Width in px of the thickest strokes of an :func:`_ink_mask`: twice the 99th percentile of
    the distance to paper (the very thickest pixel would be a speck of noise or a blot); 0.0
    with no ink."""
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 3)[mask > 0]
    return 2.0 * float(np.percentile(distance, 99)) if distance.size else 0.0


#: A background opening takes any blob of ink that holds its disc (a marker's filled loop) for
#: paper, and the digit comes out as a ring. Such a blob shows as background raised above that of
#: an opening ``BLOB_SCALE`` times as wide by more than ``BLOB_RISE`` of the strokes' contrast.
BLOB_SCALE = 3
BLOB_RISE = 0.5

#: Side in px of the wider opening's disc on the sampled copy it runs on: the paper's level it
#: estimates is smooth, and a blob at least a third as wide spans 5 samples.
_BLOB_KERNEL = 15


def _fill_blobs(
    ink: npt.NDArray[np.uint8], flat: npt.NDArray[np.uint8], size: int, rise: float
) -> npt.NDArray[np.uint8]:
    """``flat`` (``ink`` less its opening by a ``size`` px disc; uint8 (H, W), ink bright) with the
    blobs of ink that opening took for paper flattened by an opening ``BLOB_SCALE`` times as wide
    instead: where its background stands more than ``rise`` grey levels above the wider one's,
    clear of the image's edges (paper beyond them, a page's dark surround, is not told from ink)."""
    wide_size = BLOB_SCALE * size
    # Every ``step``-th pixel: the test costs next to nothing, and most images have no blob.
    step = max(1, wide_size // _BLOB_KERNEL)
    sampled = np.ascontiguousarray(ink[::step, ::step])
    background = cv2.subtract(sampled, np.ascontiguousarray(flat[::step, ::step]))
    wide = _opening(sampled, wide_size // step | 1, extend=True)
    raised = (cv2.subtract(background, wide) > rise).view(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(raised, connectivity=8)
    rows, columns = raised.shape
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    inner = (left > 0) & (top > 0)
    inner &= (left + stats[:, cv2.CC_STAT_WIDTH] < columns) & (top + stats[:, cv2.CC_STAT_HEIGHT] < rows)
    inner[0] = False
    if not inner.any():
        return flat
    height, width = ink.shape
    # A sample's width more all round: the blob's edge lies between samples. Paper there is
    # flattened alike, to the same level.
    found = cv2.dilate(inner[labels].view(np.uint8), np.ones((3, 3), np.uint8))
    blobs = cv2.resize(found, (width, height), interpolation=cv2.INTER_NEAREST) > 0
    paper = cv2.resize(wide, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.where(blobs, cv2.subtract(ink, paper), flat).astype(np.uint8, copy=False)


def _flatten_background(ink: npt.NDArray[np.uint8], size: int) -> npt.NDArray[np.uint8]:
    """Subtract a background estimate: an opening of at least ``size`` px, widened to
    ``STROKE_MARGIN`` times the thickest stroke that the ``size`` px one leaves (a marker's), and
    ``BLOB_SCALE`` times wider still under a blob of ink that it takes for paper."""
    flat = _subtract_opening(ink, size)
    mask = _ink_mask(flat)
    # Shadows are gone from ``flat`` (a global mask of ``ink`` would measure a shadow as a
    # stroke); a blob the opening took away is not, but the marker's thinner strokes remain.
    wider = int(STROKE_MARGIN * _thickest_stroke(mask)) | 1
    strokes = flat[mask > 0]
    # Only the wider opening extends the edges (its slope error grows with it); extending the
    # usual one's too, alone, misread 4 more of the 900 validation photos and mended none.
    if wider > size:
        size = wider
        flat = _subtract_opening(ink, size, extend=True)
    # Widening every opening until the stroke it leaves stops growing would keep blobs too, but
    # changes the masks of ordinary photos (the stroke measured grows with the opening as the
    # edges of shadows join in: 21, 23, 33, 41 px on one).
    return _fill_blobs(ink, flat, size, BLOB_RISE * float(np.median(strokes))) if strokes.size else flat


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


#: A faint grid (squared paper, a form's printed cells) is ink at most this dark, relative to the
#: writing's own darkness.
FAINT_GRID_RATIO = 0.6
#: Lines of each direction, well apart, that make a grid. A field's box (two and two), with a
#: rule or a paper edge besides, is no grid, and is left to segmentation.
GRID_LINES = 3
#: Lines one way, with none found the other, that make ruled paper (a notebook's lines, a form's
#: rows). One faint rule alone is left to segmentation, as a dark one is, unless it is flat and
#: runs through the writing and under it (see :func:`_a_fold`): a fold across the page, or the
#: one line of a notebook's ruling that a tight crop shows. Segmentation takes a rule out with
#: the strokes that run along it (the tops of a 3, a 5 or a 7 under a line through the digits'
#: tops), where the line's faintness tells them apart.
RULED_LINES = 2
#: A line runs through the writing when at least this share of the writing's strong ink lies on
#: each side of it. An underline or a field's bottom edge has the writing on one side (at most
#: 1.4 % of it on the other on the photos a first form of this rule misread): taken out here, by
#: its faint pixels only, it left pieces stuck to the digits.
THROUGH_SHARE = 0.05
#: ... and strokes cross it in at least this many places: a box's faint bottom edge with a margin
#: line running down the page from it has ink below it, but one crossing.
THROUGH_CROSSINGS = 2
#: How far (px) either way of a faint line's own row its band is followed (see :func:`_band`),
#: and in how many of its bare columns a row must be faint to be part of it: a soft fold is
#: thresholded hollow in places (the local threshold rises with it), its two rims ink alone.
BAND_REACH = 12
BAND_FILL = 0.25
#: How far above a ruling's own darkness a faint pixel on its lines may be and still go with it,
#: as a fraction of the way up to the writing's darker class: paper that is a little brighter in
#: one place leaves a line a few levels darker there, and what was left of it stuck to the digits.
#: (A grid's lines are cut at their own darkness: with this margin, 1 of 300 lines on squared
#: paper read worse, none better.)
RULED_MARGIN = 0.25
#: How far from parallel to a ruling's long lines another line may run and be one of its lines
#: (about 2 degrees, as a slope): the faint inside of a bold stroke, in short pieces, runs at
#: some other slant.
PARALLEL = 0.035


def _grid_lines(pieces: list[tuple[float, float, float]], gap: float) -> list[tuple[float, float, float]]:
    """The lines ``(position, slope, covered length)`` that ``(position, length, slope)`` pieces
    make: pieces within ``gap`` px of each other's position are one line (a grid line comes in
    pieces where the writing crosses it); position and slope are the pieces' means, weighted by
    length."""
    groups: list[list[tuple[float, float, float]]] = []
    for piece in sorted(pieces):
        if groups and piece[0] - groups[-1][-1][0] <= gap:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    lines = []
    for group in groups:
        covered = sum(length for _, length, _ in group)
        position = sum(p * length for p, length, _ in group) / covered
        slope = sum(slope * length for _, length, slope in group) / covered
        lines.append((position, slope, covered))
    return lines


def _path(
    line: tuple[float, float, float], hidden: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The row the flat ``line`` (position, slope, covered length) crosses in each column, and
    the columns where it shows: inside the image and not where the writing covers it (``hidden``,
    bool (H, W))."""
    height, width = hidden.shape
    columns = np.arange(width)
    rows = np.round(line[0] + line[1] * (columns - width / 2)).astype(np.int64)
    inside = (rows >= 0) & (rows < height)
    shown = np.zeros(width, bool)
    shown[inside] = ~hidden[rows[inside], columns[inside]]
    return rows, shown


def _found_along(line: tuple[float, float, float], shown: npt.NDArray[np.bool_]) -> bool:
    """Whether the flat ``line`` was found along at least half of its visible length (``shown``,
    see :func:`_path`), itself at least a quarter of the image's width."""
    visible = int(np.count_nonzero(shown))
    return visible >= shown.size / 4 and line[2] >= visible / 2


def _long(lines: list[tuple[float, float, float]], hidden: npt.NDArray[np.bool_]) -> int:
    """How many of the flat ``lines`` (position, slope, covered length) were found along at least
    half of their visible length, itself at least a quarter of the image's width; ``hidden``:
    bool (H, W), where the writing covers them. (Upright lines: pass everything transposed.)"""
    return sum(_found_along(line, _path(line, hidden)[1]) for line in lines)


def _ruling(
    lines: list[tuple[float, float, float]],
    hidden: npt.NDArray[np.bool_],
    found: npt.NDArray[np.bool_],
    *,
    slack: float,
    values: npt.NDArray[np.uint8] | None = None,
    strong: npt.NDArray[np.bool_] | None = None,
) -> list[tuple[float, float, float]]:
    """The lines of a ruling among the flat ``lines`` (position, slope, covered length): when at
    least ``RULED_LINES`` of them are long (see :func:`_long`) and run off both sides of the
    image, those and the others parallel to them; else none. Given ``values`` (uint8 (H, W), ink
    bright) and the writing's ``strong`` ink (bool (H, W)), one such line is enough where it runs
    through the writing and under it (see :func:`_a_fold`). A line runs off a side when pixels
    of ``found`` (bool (H, W)) lie on it (within 2 px) no more than ``slack`` columns in from it,
    not counting columns where the writing (``hidden``, bool (H, W)) covers it. A box's edges end
    at its corners, a form's rule where the form does, and the faint top of a blurred 7 is
    short. (Upright lines: pass everything transposed.)"""
    height, width = hidden.shape
    columns = np.arange(width)
    ruled = []
    for line in lines:
        rows, shown = _path(line, hidden)
        if not _found_along(line, shown):
            continue
        on = np.zeros(width, bool)
        for shift in range(-2, 3):
            inside = (rows + shift >= 0) & (rows + shift < height)
            on[inside] |= found[rows[inside] + shift, columns[inside]]
        ends = np.flatnonzero(on)
        if ends.size and max(np.count_nonzero(shown[: ends[0]]), np.count_nonzero(shown[ends[-1] + 1 :])) <= slack:
            ruled.append(line)
    if len(ruled) < RULED_LINES and not (
        values is not None and strong is not None and len(ruled) == 1 and _a_fold(ruled[0], values, hidden, strong)
    ):
        return []
    slope = float(np.median([line[1] for line in ruled]))
    return [line for line in lines if abs(line[1] - slope) <= PARALLEL]


def _a_fold(
    line: tuple[float, float, float],
    values: npt.NDArray[np.uint8],
    hidden: npt.NDArray[np.bool_],
    strong: npt.NDArray[np.bool_],
) -> bool:
    """Whether the flat ``line`` (position, slope, covered length) runs through the writing's
    ``strong`` ink (bool (H, W)) and under it: at least THROUGH_SHARE of that ink lies more than
    2 px above the line, as much more than 2 px below, strokes cross the line in at least
    THROUGH_CROSSINGS places (runs of columns with strong ink 3-8 px above it and 3-8 px below),
    and where they cross it they are darker than the line (in ``values``, uint8 (H, W), ink
    bright: the median crossing at least halfway from the line's own level, where the writing
    does not cover it (``hidden``, bool (H, W)), to the strong ink's median). A line drawn over
    the writing cuts its strokes in the image itself: cut out here, by its faint pixels, it cut
    them in the mask too; segmentation joins them across it."""
    width = strong.shape[1]
    ink_rows, ink_columns = np.nonzero(strong)
    offsets = ink_rows - (line[0] + line[1] * (ink_columns - width / 2))
    least = THROUGH_SHARE * ink_rows.size
    if not (np.count_nonzero(offsets < -2.0) >= least and np.count_nonzero(offsets > 2.0) >= least):
        return False
    rows, shown = _path(line, hidden)
    above, below = _off_the_line(strong, rows, range(-8, -2)), _off_the_line(strong, rows, range(3, 9))
    crossed = above.any(axis=1) & below.any(axis=1)
    if not shown.any() or np.count_nonzero(np.diff(crossed.astype(np.int8), prepend=0) == 1) < THROUGH_CROSSINGS:
        return False
    # The line's darkest row where it runs bare; where strokes cross it, its lightest: a line
    # drawn over a stroke shows its own level on one of its rows at least.
    band = _off_the_line(values, rows, range(-1, 2))
    own, crossing = float(np.median(band.max(axis=1)[shown])), float(np.median(band.min(axis=1)[crossed]))
    return crossing >= own + 0.5 * (float(np.median(values[strong])) - own)


def _band(faint: npt.NDArray[np.bool_], line: tuple[float, float, float], hidden: npt.NDArray[np.bool_]) -> int:
    """The thickness (px, odd) of the band of ``faint`` pixels (bool (H, W)) along the flat
    ``line`` (position, slope, covered length) where the writing does not cover it (``hidden``,
    bool (H, W)): twice the farther of the runs of rows above and below the line's own, each
    faint in at least BAND_FILL of those columns, up to BAND_REACH each way, plus 1."""
    rows, shown = _path(line, hidden)
    if not shown.any():
        return 1
    steps = range(-BAND_REACH, BAND_REACH + 1)
    held = _off_the_line(faint, rows[shown], steps, np.flatnonzero(shown)).mean(axis=0) >= BAND_FILL
    # Rows held on from the line's own, above it and below it; the line is cut symmetric about
    # its fitted row, as wide as its wider side.
    sides = (held[BAND_REACH - 1 :: -1], held[BAND_REACH + 1 :])
    reach = max(int(np.argmin(side)) if not side.all() else side.size for side in sides)
    return 2 * reach + 1


_Pixel = TypeVar("_Pixel", np.uint8, np.bool_)


def _off_the_line(
    image: npt.NDArray[_Pixel], rows: npt.NDArray[np.int64], steps: range, columns: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[_Pixel]:
    """``image``'s pixels (C, len(steps)) ``steps`` rows off a flat line that crosses column
    ``columns[c]`` (default: every column) at ``rows[c]``; past the image's top or bottom, zero."""
    at = rows[:, None] + np.asarray(steps)[None, :]
    inside = (at >= 0) & (at < image.shape[0])
    across = np.arange(image.shape[1]) if columns is None else columns
    found = image[at.clip(0, image.shape[0] - 1), across[:, None]]
    return np.where(inside, found, np.zeros((), image.dtype))


def faint_grid(values: npt.NDArray[np.uint8], mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_] | None:
    """The pixels of a faint printed grid or ruling among the ink, or None when there is none.

    ``values``: uint8 (H, W), ink bright (the image ``mask`` was thresholded from); ``mask``:
    bool (H, W) ink. Squared paper, ruled paper and forms' cells printed in a light colour are
    ink to a threshold: upright lines read as 1s, cells as 0s, and a faint rule through the
    writing breaks up where the threshold runs near dark strokes, so that segmentation cannot
    find it whole. A grid is told apart by two things together: its pixels are much fainter than
    the writing's (at most ``FAINT_GRID_RATIO`` of the darkness of the ink's darker class), and
    among them, away from the writing, are at least ``GRID_LINES`` straight lines each way (within
    20 degrees of level or upright), each found along at least half of what the writing leaves
    of it; or ruled paper: ``RULED_LINES`` such lines one way that run off the page, or one flat
    line through the writing and under it (a fold), and no piece of one the other (see
    :func:`_ruling`). The faint pixels on the lines (all found for a
    grid, the ruling's for ruled paper), extended across the image, no brighter than the lines
    away from the writing (for ruled paper, ``RULED_MARGIN`` brighter: see there), are returned:
    where the pen crosses the grid, the ink stays.
    """
    inked = values[mask]
    if inked.size < 64:
        return None
    level, _ = cv2.threshold(inked.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    strong = mask & (values > level)
    faint = mask & ~strong
    if not strong.any() or not faint.any() or float(values[faint].mean()) > FAINT_GRID_RATIO * float(values[strong].mean()):
        return None
    height, width = mask.shape
    short = min(height, width)
    # The faint rim of a dark stroke or box side runs beside strong ink all along; a grid line
    # meets the writing only where the pen crosses it. Lines are looked for away from the ink.
    near_strong = cv2.dilate(strong.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    apart_from_ink = faint & ~near_strong
    found = cv2.HoughLinesP(
        apart_from_ink.view(np.uint8), 1, np.pi / 180, threshold=max(10, short // 6), minLineLength=max(8, short // 5), maxLineGap=max(4, short // 8)
    )
    if found is None:
        return None
    segments = found.reshape(-1, 4).astype(np.float64)
    x1, y1, x2, y2 = segments.T
    angle = np.abs(np.degrees(np.arctan2(y2 - y1, x2 - x1))) % 180.0
    length = np.hypot(x2 - x1, y2 - y1)
    flat = (angle < 20.0) | (angle > 160.0)
    upright = (angle > 70.0) & (angle < 110.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A flat piece as (row where it crosses the middle column, rows per column); an upright
        # one as (column where it crosses the middle row, columns per row).
        dy_dx = (y2 - y1) / (x2 - x1)
        dx_dy = (x2 - x1) / (y2 - y1)
        rows = y1 + dy_dx * (width / 2 - x1)
        columns = x1 + dx_dy * (height / 2 - y1)
    # Pieces of one thick or tilted line (a box's side) extrapolate to nearby positions; a grid's
    # lines are parted by far more.
    apart = max(3.0, short / 10.0)
    across = _grid_lines(list(zip(rows[flat].tolist(), length[flat].tolist(), dy_dx[flat].tolist())), apart)
    down = _grid_lines(list(zip(columns[upright].tolist(), length[upright].tolist(), dx_dy[upright].tolist())), apart)
    # A grid: enough lines found along at least half of what the writing leaves of them, each
    # way. Then the others, found in shorter pieces, are its lines too. Else ruled paper, with
    # no piece of a line the other way (a box has sides), upright on a page turned a quarter.
    grid = _long(across, near_strong) >= GRID_LINES and _long(down, near_strong.T) >= GRID_LINES
    if not grid:
        if down and across:
            return None
        across = _ruling(across, near_strong, apart_from_ink, slack=apart, values=values, strong=strong)
        down = _ruling(down, near_strong.T, apart_from_ink.T, slack=apart)
        if not (across or down):
            return None
    # The lines run on across the whole image, under the writing and past its edges.
    lines = np.zeros((height, width), np.uint8)
    for line in across:
        row, slope, _ = line
        # As thick as the faint band the line makes where it runs bare, at least 5 px: a soft fold
        # is wider, and what a 5 px cut left of it ran along it as two thin lines stuck to the digits.
        start, end = (0, round(row - slope * width / 2)), (width - 1, round(row + slope * (width / 2 - 1)))
        cv2.line(lines, start, end, 1, thickness=max(5, _band(faint, line, near_strong)))
    for column, slope, _ in down:
        cv2.line(lines, (round(column - slope * height / 2), 0), (round(column + slope * (height / 2 - 1)), height - 1), 1, thickness=5)
    on_lines = faint & (lines > 0)
    # The grid's own darkness: what its lines hold away from the writing. Stroke edges on a
    # line as faint as that go with the grid; the stroke's body stays.
    grid_level = float(np.percentile(values[apart_from_ink & (lines > 0)], 90))
    if not grid:
        grid_level += RULED_MARGIN * (float(level) - grid_level)
    return on_lines & (values <= grid_level)


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
    odd window in pixels (default: a fifth of the shorter side of the image, or of the
    writing's region: see below). Returns bool (H, W), True on ink; all False for a blank page.
    A mark with soft edges (a smudge, a stain, a shadow's edge: see ``SOFT_SLOPE``) is not ink,
    nor is a straight line down the page from its edge with writing beside it (a fold, a margin
    line, the paper's edge: see ``PAGE_LINE_RATIO``; in pieces too: see ``PAGE_LINE_PIECES``), but
    where strokes cross it, nor one alone on the page that no pen drew (see ``LONE_LINE_CORE``).

    Without a ``window``, a page with much paper around the writing (a phone photo) is
    binarized twice: the whole page, then the writing's region (:func:`writing_region`) on its
    own, as the training lines were. A global threshold and a window sized by the page follow
    how much paper there is, not the writing; ink found outside the region is kept as found.
    """
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (H, W) image, got {gray.dtype} {gray.shape}")
    if gray.size == 0 or is_blank(gray):
        return np.zeros(gray.shape, bool)
    if method not in ("auto", "otsu", "sauvola"):
        raise ValueError(f"unknown method {method!r}")
    if dark_ink is None:
        dark_ink = ink_is_dark(gray)
    result = _binarize(gray, method, dark_ink, window)
    values = gray if dark_ink else 255 - gray  # (ink dark, for measuring a line's profile)
    lines = _page_lines(result, PAGE_LINE_RATIO, values)
    if lines:
        result = _without_lines(result, lines)
    region = writing_region(result) if window is None else None
    if region is None:
        return result
    top, bottom, left, right = region
    writing = gray[top:bottom, left:right]
    if is_blank(writing):
        result[top:bottom, left:right] = False
    else:
        # A line too faint for the page's threshold may show on the region's, and run its height.
        found = _binarize(writing, method, dark_ink, None)
        own = _page_lines(found, REGION_LINE_RATIO, values[top:bottom, left:right])
        result[top:bottom, left:right] = _without_lines(found, own) if own else found
    # (Lines of the page found in the region again, where the page's threshold had parted them.)
    return _without_lines(result, lines) if lines else result


#: The most pixels a mark that is only noise has, however small the writing: no digit is drawn
#: in two. Writing 8 px tall on a 1 600 px photo is marks of 5-32 px, and 1/20 of the biggest of
#: them lets through the page's one- and two-pixel specks of JPEG noise, which then spread the
#: writing's region over the whole page.
MAX_SPECK = 2


def writing_region(mask: npt.NDArray[np.bool_], *, margin: float = PAPER_MARGIN) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), rows and columns in px (ends excluded), of the writing in an
    ink mask (bool (H, W)) and ``margin`` times its tallest mark's height of paper around it;
    None where that is the whole image, or where there is no ink. The writing is every mark
    with at least ``1 / 20`` the ink of the biggest, and more than ``MAX_SPECK`` px: specks of
    noise do not widen it."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    if count < 2:
        return None
    marks = stats[1:]
    area = marks[:, cv2.CC_STAT_AREA]
    marks = marks[(area * 20 >= area.max()) & (area > MAX_SPECK)]
    if not len(marks):
        return None
    pad = math.ceil(margin * int(marks[:, cv2.CC_STAT_HEIGHT].max())) + 2
    height, width = mask.shape
    top = max(0, int(marks[:, cv2.CC_STAT_TOP].min()) - pad)
    left = max(0, int(marks[:, cv2.CC_STAT_LEFT].min()) - pad)
    bottom = min(height, int((marks[:, cv2.CC_STAT_TOP] + marks[:, cv2.CC_STAT_HEIGHT]).max()) + pad)
    right = min(width, int((marks[:, cv2.CC_STAT_LEFT] + marks[:, cv2.CC_STAT_WIDTH]).max()) + pad)
    if (top, bottom, left, right) == (0, height, 0, width):
        return None
    return top, bottom, left, right


#: A mark whose edges are soft is a smudge, a stain or a shadow's edge, not ink: its edge (2 px
#: either side of its outline) rises under SOFT_SLOPE of its depth per px (90th percentile), the
#: page less its 5 x 5 mean stays under SOFT_PEAK of its depth around it, and the paper 2-4 px from
#: it is still SOFT_TAIL of its depth darker than the paper further off (the mark stands on its
#: own tail). Measured on the marks of the old masks: ink in photos, blurred, faded, noisy or on
#: 12 MP phone photos, rises 0.149-0.217 of its depth per px at the least (0.1st percentile, by
#: set; shaded photos' rules and shadow edges along the border lower); a smudge's tip, where the
#: writing's threshold cuts it, a median of 0.040-0.048 and 0.084 at the most, and it keeps 0.4
#: and more of its depth beside it.
SOFT_SLOPE = 0.1
SOFT_PEAK = 0.2
SOFT_TAIL = 0.2
#: Marks smaller than this (px of ink) are not judged, nor those a 3 x 3 erosion takes away
#: (under about 3 px thick): rules are left to the rule search.
SOFT_MIN_AREA = 30
_SQUARE_3 = np.ones((3, 3), np.uint8)
_DISC_5 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
_DISC_9 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))


def _without_soft_marks(ink: npt.NDArray[np.uint8], mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """``mask`` (bool (H, W)) without its marks whose edges are soft (see SOFT_SLOPE); ``ink``
    uint8 (H, W), ink high. A mark's depth is its 90th-percentile ink level over the paper around
    it: the lightest of the paper 4-8 px, 8-16 px and 2-4 thicknesses away (a smudge's tail
    reaches past the first), the last the level a plane fitted to it has at the mark (a shadow
    across it would otherwise count as depth). The paper "beside" a mark is the ring a 9 px disc
    adds to it beyond a 5 px one (2-4 px off)."""
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    height, width = mask.shape
    # No paper around a mark is lighter than the page's lightest (0.5 %): a mark that would not
    # stand on its tail even over that is ink, and needs no closer look (most of them).
    lightest = float(_floor_level(ink, max(1, ink.size // 200)))
    soft = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < SOFT_MIN_AREA:
            continue
        # First a look at the mark and the paper 2-4 px around it alone (dilations of its box).
        top, left = max(0, y - 5), max(0, x - 5)
        bottom, right = min(height, y + h + 5), min(width, x + w + 5)
        mark = labels[top:bottom, left:right] == label
        values = ink[top:bottom, left:right]
        within = cv2.dilate(mark.view(np.uint8), _DISC_5)
        beside = (cv2.dilate(mark.view(np.uint8), _DISC_9) > within) & ~mask[top:bottom, left:right]
        if np.count_nonzero(beside) < 5 or not cv2.erode(mark.view(np.uint8), _SQUARE_3).any():
            continue  # (too thin to judge: rules are the rule search's)
        found = values[mark]
        rank = int(0.9 * (found.size - 1))  # (the 90th percentile, without interpolating)
        peak = float(np.partition(found, rank)[rank])
        by = float(np.median(values[beside]))
        if peak - lightest < MIN_FAINT or by - lightest < SOFT_TAIL * (peak - lightest):
            continue
        own = np.pad(mark[y - top : y - top + h, x - left : x - left + w], 1)
        thickness = 2.0 * float(cv2.distanceTransform(own.view(np.uint8), cv2.DIST_L2, 3).max())
        reach = math.ceil(max(16.0, 4.0 * thickness)) + 1
        top, left = max(0, y - reach), max(0, x - reach)
        bottom, right = min(height, y + h + reach), min(width, x + w + reach)
        mark = labels[top:bottom, left:right] == label
        values = ink[top:bottom, left:right]
        distance = cv2.distanceTransform((~mark).view(np.uint8), cv2.DIST_L2, 3)
        paper = ~mask[top:bottom, left:right]
        rings = [paper & (distance > near) & (distance <= far) for near, far in ((4.0, 8.0), (8.0, 16.0))]
        levels = [float(np.median(values[ring])) for ring in rings if np.count_nonzero(ring) >= 5]
        wide = paper & (distance > 2.0 * thickness) & (distance <= 4.0 * thickness)
        # (Only where the image's edges leave it at least as much paper as the ring inside it: a
        # few px in a corner tell nothing of the paper at the mark.)
        if np.count_nonzero(wide) >= max(5, int(np.count_nonzero(rings[1]))):
            levels.append(_level_at(values, wide, (centroids[label][0] - left, centroids[label][1] - top)))
        if not levels:
            continue
        depth = peak - min(levels)
        # A stroke stands on its paper; a smudge's tip on its own tail.
        if depth < MIN_FAINT or by - min(levels) < SOFT_TAIL * depth:
            continue
        source = values.astype(np.float32)
        smooth = cv2.GaussianBlur(source, (3, 3), 0)
        slope = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1)) / 8.0
        inside = cv2.distanceTransform(mark.view(np.uint8), cv2.DIST_L2, 3)
        edge = (mark & (inside <= 2.5)) | (~mark & (distance <= 2.0))
        if float(np.percentile(slope[edge], 90)) >= SOFT_SLOPE * depth:
            continue
        residual = _off_local_mean(source)[distance <= 2.0]
        if float(np.percentile(residual, 99)) < SOFT_PEAK * depth:
            soft.append(label)
    if not soft:
        return mask
    return mask & ~np.isin(labels, soft)


def _level_at(values: npt.NDArray[np.uint8], where: npt.NDArray[np.bool_], point: tuple[float, float]) -> float:
    """The level at ``point`` (x, y in px) of a plane fitted (least squares) to ``values`` where
    ``where`` is True (both (H, W)), within the 5th-95th percentile of those values: where the
    image's edge leaves a few px of them on one side, the plane is not carried past them."""
    rows, columns = np.nonzero(where)
    found = values[rows, columns].astype(np.float64)
    design = np.column_stack([np.ones(rows.size), columns - point[0], rows - point[1]])
    fit, *_ = np.linalg.lstsq(design, found, rcond=None)
    low, high = np.percentile(found, [5, 95])
    return float(np.clip(fit[0], low, high))


def _binarize(gray: npt.NDArray[np.uint8], method: Method, dark_ink: bool, window: int | None) -> npt.NDArray[np.bool_]:
    """:func:`binarize` of a whole image, its arguments checked, its polarity known, and not
    blank (checked once by the caller: a percentile over the page)."""
    ink = cast("npt.NDArray[np.uint8]", cv2.bitwise_not(gray)) if dark_ink else gray.copy()
    short = min(gray.shape)
    win = window or max(15, (short // 5) | 1)
    auto = method == "auto"
    if auto:
        # Paper brightness varies under a shadow or a gradient: look at the background alone.
        blurred = np.asarray(cv2.blur(ink, (win, win)), np.uint8)
        lo, hi = _percentiles(blurred, (5, 95))
        method = "sauvola" if hi - lo > 40 else "otsu"
    if method == "otsu":
        _, mask = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        result = mask > 0
        if auto and result.mean() > MAX_GLOBAL_INK:
            method = "sauvola"
    if method == "sauvola":
        flat = _flatten_background(ink, win)
        contrast = _contrast(flat, FLAT_FAINT_SNR)
        if contrast == "blank":
            return np.zeros(gray.shape, bool)
        # Sauvola on the flattened image, confirmed by a global Otsu level to avoid paper texture,
        # and by half the least contrast writing has (MIN_FAINT's where faint writing was found).
        local = flat > sauvola_threshold(flat, win | 1)
        level, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        least = MIN_FAINT if contrast == "faint" else MIN_CONTRAST
        result = local & (flat > max(0.5 * level, 0.5 * least))
    # A page that is mostly "ink" was mis-thresholded paper texture, not writing.
    if result.mean() > 0.5:
        return np.zeros(gray.shape, bool)
    result = _without_soft_marks(ink, result)
    grid = faint_grid(flat if method == "sauvola" else ink, result)
    return result & ~grid if grid is not None else result


#: A straight upright mark that runs down the page from one of its edges (a fold, a margin line,
#: the paper's edge or the table beyond it) is no writing where it is at least PAGE_LINE_RATIO
#: times as tall as every mark of the writing beside it: left in, it was measured as the
#: writing's height (a thin bar votes where the digits are under a quarter of it), and the page
#: was shrunk to bring it down to a digit's size. It starts within PAGE_LINE_MARGIN of the page's
#: height of the top or the bottom, or off a side, and may end short of the other edge: where the
#: table beyond the paper grows wider than a stroke it is background, and only its narrow end is
#: ink. The threshold may part it where it crosses the writing: two pieces, from the top and from
#: the bottom, whose sides carried on meet, are one.
PAGE_LINE_RATIO = 3.0
PAGE_LINE_MARGIN = 0.02
#: Only writing beside it makes a line a page line: strokes (or ink joined to it) at least
#: PAGE_LINE_WRITING of the page's height, whose ink fills under PAGE_LINE_FILL of their box. A
#: lone line, or one with specks or a dot beside it, may be a 1 drawn off a canvas, and is left.
PAGE_LINE_WRITING = 0.05
PAGE_LINE_FILL = 0.6
#: A lone line (nothing written beside it) that runs from edge to edge is still no 1 drawn off a
#: canvas where it is joined to ink that runs across the page from side to side (folds or printed
#: lines crossing: a folded page, a table's cells), or where it is soft: a fold's trough, dark in
#: its middle only, not a stroke's flat core. Across the line, averaged along it, the part at
#: least 0.9 of its depth under the paper is under LONE_LINE_CORE of the part at least half its
#: depth under it. Measured: folds 4-8 px wide 0.35-0.42; 1s drawn off a canvas with a 6-16 px
#: pen 0.82-0.96, blurred (a Gaussian of std 1, 2, 3 px) 0.59-0.85, 0.41-0.69, 0.37-0.54: a
#: stroke blurred as wide as a fold is read as one.
LONE_LINE_CORE = 0.5
#: ... on a line at least LONE_LINE_WIDTH px wide at half its depth: a stroke's edges blur over a
#: pixel or two each side, which leaves a thinner stroke's core no wider than a fold's.
LONE_LINE_WIDTH = 6.0
#: The same on the writing's region (see :func:`writing_region`), binarized on its own: its
#: margins make it 2.6 times as tall as its tallest mark (less where the page's edge cuts them),
#: and the writing reaches none of its edges.
REGION_LINE_RATIO = 2.0
#: A page line's two sides are straight: each within max(2 px, 1 % of the page's height) of a
#: line leaning at most PAGE_LINE_LEAN px per row, along at least PAGE_LINE_STRAIGHT of the
#: mark's rows (where it crosses the writing, a digit joined to it widens its rows).
PAGE_LINE_LEAN = 0.36
PAGE_LINE_STRAIGHT = 0.5


#: A page line: pieces (first row, row after the last, sides), each side (lean, offset) in
#: columns per row and columns at row 0.
_Sides = tuple[tuple[float, float], tuple[float, float]]
_PageLine = tuple[tuple[int, int, _Sides], ...]


def _page_lines(mask: npt.NDArray[np.bool_], ratio: float, values: npt.NDArray[np.uint8]) -> list[_PageLine]:
    """The page lines of an ink mask (bool (H, W)): at least ``ratio`` times as tall as any other
    mark (see PAGE_LINE_RATIO), with writing beside them (see PAGE_LINE_WRITING); or alone,
    from edge to edge, crossed or soft (see LONE_LINE_CORE) in ``values`` (uint8 (H, W), the
    page with its ink dark)."""
    height, width = mask.shape
    end = max(2, math.ceil(PAGE_LINE_MARGIN * height))
    if not any(strip.any() for strip in (mask[:end], mask[-end:], mask[:, :end], mask[:, -end:])):
        return []  # (a line runs from an edge: most pages have paper all round, and none)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    tolerance = _page_line_tolerance(height)
    least_writing = PAGE_LINE_WRITING * height
    # Each straight mark that meets the page's edge: its sides, in the page's columns, and whether
    # its top and its bottom end there (at the top or bottom, or off a side). (Not the specks of a
    # page of noise, which may be thousands: a line is taller than the least writing.)
    found = {}
    # Folds that cross or meet down the page, as one mark: its lines (see _crossed_lines).
    crossing: dict[int, list[_PageLine]] = {}
    # Writing that touches a line is one mark with it: it is the ink off the line, where that is
    # as much as half the line's (not a 1's flag), and as tall as the rows it holds.
    joined = []
    bare = set()  # (lines with ink off them in fewer rows than the least writing is tall)
    lefts, tops, widths, heights = stats[:, :4].T
    edge = (tops < end) | (tops + heights > height - end) | (lefts < end) | (lefts + widths > width - end)
    edge[0] = False  # (the background)
    for label in np.flatnonzero(edge & (heights >= least_writing)).tolist():
        x, y, w, h = (int(v) for v in stats[label, :4])
        own = labels[y : y + h, x : x + w] == label
        fit = _straight_sides(own, tolerance)
        if fit is not None:
            sides = _on_the_page(fit, x, y)
            left, right = _sides_at(sides, np.arange(y, y + h), tolerance)
            columns = np.arange(x, x + w)[None, :]
            on = own & (columns >= left) & (columns <= right)
            off_line = own & ~on
            rows = int(np.count_nonzero(np.count_nonzero(off_line, axis=1) >= 2))
        if fit is None or rows >= least_writing:
            # Folds that cross or meet are one mark: not straight, or straight only where they run
            # as one band, with the rest of them off it. Each of them is straight.
            crossed = _crossed_lines(own, (x, y), (height, width), end, tolerance)
            if crossed:
                crossing[label] = crossed
                continue
        if fit is None:
            continue
        off = np.zeros(w, bool)
        off[: max(0, end - x)] = True
        off[max(0, width - end - x) :] = True
        # (Off a side where the line itself runs off it: not where ink joined to it does, as an
        # underline a 1 stands on.)
        ends = (y < end or bool((on[0] & off).any()), y + h > height - end or bool((on[-1] & off).any()))
        if not (ends[0] or ends[1]):
            continue
        found[label] = (sides, ends)
        if np.count_nonzero(off_line) >= 0.5 * np.count_nonzero(on) and rows >= least_writing:
            joined.append(rows)
        elif rows < least_writing:
            bare.add(label)
    if not found and not crossing:
        return []
    lefts, tops, widths, heights = (column.copy() for column in (lefts, tops, widths, heights))
    pieces = _chain_pieces(np.asarray(labels), np.asarray(stats), found, tolerance)
    for label, (first, last, x0, x1, sides, chained) in pieces.items():
        # (The line spans its pieces now: its height is theirs, its ends where they end.)
        tops[label], heights[label], lefts[label], widths[label] = first, last - first, x0, x1 - x0
        ends = found[label][1]
        found[label] = (sides, (ends[0] or first < end, ends[1] or last > height - end))
        for piece in chained:
            found.pop(piece, None)
            bare.discard(piece)
    absorbed = [piece for _, _, _, _, _, chained in pieces.values() for piece in chained]
    # Writing beside the line: strokes at least PAGE_LINE_WRITING of the page's height (not
    # specks, nor a dot beside a 1 drawn off the canvas: see PAGE_LINE_FILL).
    others = np.ones(count, bool)
    others[[0, *found, *absorbed, *crossing]] = False
    others &= (heights >= least_writing) & (stats[:, cv2.CC_STAT_AREA] < PAGE_LINE_FILL * widths * heights)
    tallest = heights[others].tolist() + joined
    if not tallest:
        # (Alone, only where each line is soft: a pen's V or X is no digit, but it is what was written.)
        return [
            line
            for crossed in crossing.values()
            if all(_soft(values, *line[0]) for line in crossed)
            for line in crossed
        ] + [
            ((int(tops[label]), int(tops[label] + heights[label]), sides),)
            for label, (sides, ends) in found.items()
            if ends[0]
            and ends[1]
            and (
                (lefts[label] < end and lefts[label] + widths[label] > width - end)
                or (label in bare and _soft(values, int(tops[label]), int(tops[label] + heights[label]), sides))
            )
        ]
    least = ratio * max(tallest)
    bottoms = tops + heights

    def centre(label: int, row: float) -> float:
        return _centre(found[label][0], row)

    # (A line may end short of the other edge: where the table beyond the paper grows wider than a
    # stroke, it is the background, and only its narrow end is ink.)
    whole = [label for label in found if bottoms[label] - tops[label] >= least]
    lines: list[_PageLine] = [((int(tops[label]), int(bottoms[label]), found[label][0]),) for label in whole]
    lines += [line for crossed in crossing.values() for line in crossed if line[0][1] - line[0][0] >= least]
    uppers = [label for label, (_, ends) in found.items() if ends[0] and not ends[1] and label not in whole]
    lowers = [label for label, (_, ends) in found.items() if ends[1] and not ends[0] and label not in whole]
    for upper, lower in itertools.product(uppers, lowers):
        # One line parted: each piece's sides, carried on, meet the other's at its ends.
        meet = (int(bottoms[upper]), int(tops[lower]))
        if bottoms[lower] - tops[upper] < least:
            continue
        if all(abs(centre(upper, row) - centre(lower, row)) <= tolerance for row in meet):
            split = (meet[0] + meet[1]) // 2
            lines.append(((int(tops[upper]), split, found[upper][0]), (split, int(bottoms[lower]), found[lower][0])))
    return lines


#: A page line the threshold left in pieces (a faint paper's edge, dashed where it steps from one
#: column to the next): the marks that lie wholly within its band carried on down the page (its
#: sides, each within the page line tolerance) are more of it, where with it they hold ink in at
#: least PAGE_LINE_PIECES of the rows they span, and their sides, fitted again, are straight.
PAGE_LINE_PIECES = 0.5
#: How many times a page line in pieces is carried on and fitted again, at the most.
PAGE_LINE_GROWTH = 8


def _chain_pieces(
    labels: npt.NDArray[np.integer[Any]],
    stats: npt.NDArray[np.integer[Any]],
    found: dict[int, tuple[_Sides, tuple[bool, bool]]],
    tolerance: float,
) -> dict[int, tuple[int, int, int, int, _Sides, list[int]]]:
    """Per page line of ``found`` (component label: sides, ends) that other components of
    ``labels`` (their ``stats``) carry on: its rows (first, last), its columns (x0, x1), the sides
    fitted on all its pieces, and the labels of the other pieces (see PAGE_LINE_PIECES)."""
    lefts, tops, widths, heights = stats[:, :4].T
    bottoms, rights = tops + heights - 1, lefts + widths - 1
    out = {}
    taken: set[int] = set()
    for label, (sides, ends) in found.items():
        if label in taken:
            continue
        group, kept = [label], None
        # Grown a few pieces at a time, refitted each time: a piece the page's edge cuts, or a
        # short one, measures the line's lean roughly, and its band carried far drifts off it.
        for _ in range(PAGE_LINE_GROWTH):
            # Each box within the band over its rows (the band's sides are straight: their
            # columns at the box's top and bottom rows bound it; the fit on the whole says more).
            (left_top, right_top), (left_bottom, right_bottom) = (
                _sides_at(sides, rows, tolerance) for rows in (tops, bottoms)
            )
            least, most = np.minimum(left_top, left_bottom)[:, 0], np.maximum(right_top, right_bottom)[:, 0]
            inside = (least <= lefts) & (rights <= most)
            inside[[0, *group]] = False
            more = [piece for piece in np.flatnonzero(inside).tolist() if piece not in taken]
            # (A piece from the top and one from the bottom are one line parted where it crosses
            # the writing: _page_lines joins them as such, each with its own sides.)
            parted = ends[0] != ends[1] and any(found.get(piece, (None, ends))[1] == ends[::-1] for piece in more)
            if not more or parted:
                break
            grown = [*group, *more]
            first, last = int(tops[grown].min()), int(bottoms[grown].max()) + 1
            x0, x1 = int(lefts[grown].min()), int(rights[grown].max()) + 1
            own = np.isin(labels[first:last, x0:x1], grown)
            fit = _straight_sides(own, tolerance)
            if np.count_nonzero(own.any(axis=1)) < PAGE_LINE_PIECES * (last - first) or fit is None:
                break
            sides = _on_the_page(fit, x0, first)
            group, kept = grown, (first, last, x0, x1, sides, grown[1:])
        if kept is not None:
            out[label] = kept
            taken.update(group)
    return out


def _centre(sides: _Sides, row: float) -> float:
    """The column (px) midway between a page line's ``sides`` (see _PageLine) in ``row``."""
    return sum(lean * row + offset for lean, offset in sides) / 2.0


#: Folds that cross (an X) or meet (a V) down the page are one mark: its runs of ink, row by row,
#: are taken for PAGE_LINE_CROSSING straight lines at the most, each found as the line through
#: two runs' middles that the most runs not yet taken lie on (within the page line tolerance).
#: Each stands apart from the others (a run of its own, its sides straight there) in at least
#: PAGE_LINE_APART of the mark's rows: folds that cross at a small angle run as one band along
#: much of the page. The lines hold all but PAGE_LINE_STRAY of the mark's ink.
PAGE_LINE_CROSSING = 3
PAGE_LINE_APART = 0.25
PAGE_LINE_STRAY = 0.01


def _crossed_lines(
    own: npt.NDArray[np.bool_], at: tuple[int, int], size: tuple[int, int], end: int, tolerance: float
) -> list[_PageLine]:
    """The page lines, each in one piece, that a mark (bool (h, w), its box, whose top left pixel
    is ``at``: x, y) on a page of ``size`` (H, W) is made of where it is 2 to PAGE_LINE_CROSSING
    straight lines (:func:`_crossing_lines`), each from edge to edge (its ends within ``end`` px
    of the top and the bottom, or off a side); else []."""
    height, width = size
    x, y = at
    lines = [(first + y, last + y, _on_the_page(sides, x, y)) for first, last, sides in _crossing_lines(own, tolerance)]
    if lines and all(
        (first < end or not end <= _centre(sides, first) < width - end)
        and (last > height - end or not end <= _centre(sides, last - 1) < width - end)
        for first, last, sides in lines
    ):
        return [(line,) for line in lines]
    return []


def _crossing_lines(own: npt.NDArray[np.bool_], tolerance: float) -> list[tuple[int, int, _Sides]]:
    """The straight lines (2 to PAGE_LINE_CROSSING) that a mark (bool (h, w), its box) is made
    of, each as (first row, row after the last, sides; see _PageLine); [] where it is not lines."""
    height, width = own.shape
    starts = own.copy()
    starts[:, 1:] &= ~own[:, :-1]
    stops = own.copy()
    stops[:, :-1] &= ~own[:, 1:]
    rows, first_columns = np.nonzero(starts)
    _, last_columns = np.nonzero(stops)  # (row by row, in the same order: a run's start, then its stop)
    if rows.size > PAGE_LINE_CROSSING * height:
        return []  # (more runs than its lines could make: no mark of lines)
    middles = (first_columns + last_columns) / 2.0
    lines: list[tuple[int, int, _Sides]] = []
    free = np.ones(rows.size, bool)
    covered = np.zeros(own.shape, bool)
    columns = np.arange(width)[None, :]
    for _ in range(PAGE_LINE_CROSSING):
        # Two runs from nine rows spread over the mark's (its free runs'): the pair whose line
        # the most free runs lie on.
        held = np.unique(rows[free])
        if held.size < max(3.0, PAGE_LINE_APART * height):
            break
        picks = held[np.unique(np.linspace(0, held.size - 1, 9).round().astype(np.int64))]
        runs = np.flatnonzero(free & np.isin(rows, picks))
        i, j = (pair.ravel() for pair in np.meshgrid(runs, runs, indexing="ij"))
        pairs = rows[i] < rows[j]
        i, j = i[pairs], j[pairs]
        lean = (middles[j] - middles[i]) / (rows[j] - rows[i])
        steep = np.abs(lean) > PAGE_LINE_LEAN
        i, j, lean = i[~steep], j[~steep], lean[~steep]
        if not i.size:
            break
        # (Each pair's line against every run: a few hundred pairs, a few runs a row.)
        on_line = middles[i, None] + lean[:, None] * (rows[None, :] - rows[i, None])
        near = free & (np.abs(middles[None, :] - on_line) <= tolerance)
        best = near[int(np.argmax(np.count_nonzero(near, axis=1)))]
        # Its sides, fitted on its runs and then on those that lie along them (as _straight_sides).
        taken = rows[best].astype(np.float64)
        if np.unique(taken).size < max(3.0, PAGE_LINE_APART * height):
            break
        fits = [np.polyfit(taken, side[best], 1) for side in (first_columns, last_columns)]
        along = best.copy()
        along[best] = (np.abs(first_columns[best] - np.polyval(fits[0], taken)) <= tolerance) & (
            np.abs(last_columns[best] - np.polyval(fits[1], taken)) <= tolerance
        )
        if np.count_nonzero(along) < max(3.0, PAGE_LINE_APART * height):
            break
        sides = _fitted_sides(rows[along].astype(np.float64), first_columns[along], last_columns[along])
        if sides is None:
            break
        left, right = _sides_at(sides, np.arange(height), tolerance)
        band = own & (columns >= left) & (columns <= right)
        inked = np.flatnonzero(band.any(axis=1))
        lines.append((int(inked[0]), int(inked[-1]) + 1, sides))
        covered |= band
        free &= ~best
    if len(lines) < 2 or np.count_nonzero(own & ~covered) > PAGE_LINE_STRAY * np.count_nonzero(own):
        return []
    return lines


def _on_the_page(sides: _Sides, left: int, top: int) -> _Sides:
    """``sides`` fitted in a box whose top left pixel is (``left``, ``top``) of the page, in the
    page's columns and rows (see _PageLine)."""
    (lean_l, offset_l), (lean_r, offset_r) = sides
    return (lean_l, left + offset_l - lean_l * top), (lean_r, left + offset_r - lean_r * top)


def _soft(values: npt.NDArray[np.uint8], first: int, last: int, sides: _Sides) -> bool:
    """Whether a page line (rows ``first`` to ``last`` of ``values``, uint8 (H, W), ink dark;
    its ``sides`` as in _PageLine) is a soft trough across, not a stroke (see LONE_LINE_CORE)."""
    rows = np.unique(np.linspace(first, last - 1, 64).round().astype(np.int64))
    (lean_l, offset_l), (lean_r, offset_r) = sides
    left, right = lean_l * rows + offset_l, lean_r * rows + offset_r
    half = max(1.0, float(np.median(right - left + 1.0)) / 2.0)
    step = 0.25
    across = np.arange(-math.ceil(3 * half + 4), math.ceil(3 * half + 4) + step, step)
    columns = (left + right)[:, None] / 2.0 + across[None, :]
    # Each row's profile at the same offsets from the line's middle (linear between columns).
    base = np.floor(columns).astype(np.int64)
    inside = (base >= 0) & (base + 1 < values.shape[1])
    base = base.clip(0, values.shape[1] - 2)
    page = values[rows].astype(np.float64)
    picked = np.take_along_axis(page, base, axis=1)
    after = np.take_along_axis(page, base + 1, axis=1)
    level = np.where(inside, picked + (columns - base) * (after - picked), np.nan)
    seen = inside.any(axis=0)
    if not seen.all():
        return False  # (the page's edge within reach: too close to tell)
    profile = np.nanmean(level, axis=0)
    paper = float(np.median(profile[np.abs(across) >= 2 * half + 2]))
    depth = paper - float(profile.min())
    if depth <= 0:
        return False
    under = paper - profile
    wide = np.count_nonzero(under >= 0.5 * depth)
    return bool(wide * step >= LONE_LINE_WIDTH and np.count_nonzero(under >= 0.9 * depth) < LONE_LINE_CORE * wide)


def _page_line_tolerance(height: int) -> float:
    """How far (px) a page line's sides may wander from straight on a page ``height`` px tall."""
    return max(2.0, 0.01 * height)


def _without_lines(mask: npt.NDArray[np.bool_], lines: list[_PageLine]) -> npt.NDArray[np.bool_]:
    """``mask`` (bool (H, W)) without the ink of its page ``lines`` (:func:`_page_lines`), but
    where a stroke crosses one: in a row where the ink runs on to within 2 px past both sides."""
    height, width = mask.shape
    tolerance = _page_line_tolerance(height)
    out = mask.copy()
    columns = np.arange(width)[None, :]
    for line in lines:
        for first, last, sides in line:
            left, right = _sides_at(sides, np.arange(first, last), tolerance)
            ink = mask[first:last]
            band = ink & (columns >= left) & (columns <= right)
            crossed = (ink & (columns < left) & (columns >= left - 2)).any(axis=1) & (
                ink & (columns > right) & (columns <= right + 2)
            ).any(axis=1)
            band[crossed] = False
            out[first:last] &= ~band
    return out


def _sides_at(
    sides: _Sides, rows: npt.NDArray[np.int64], margin: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The first and last columns (int (len(rows), 1)) of a page line (its ``sides``, see
    _PageLine) in each of ``rows``, each carried ``margin`` px out (as far as its sides were
    found to wander)."""
    (lean_l, offset_l), (lean_r, offset_r) = sides
    at = rows.astype(np.float64)[:, None]
    left = np.floor(lean_l * at + offset_l - margin).astype(np.int64)
    return left, np.ceil(lean_r * at + offset_r + margin).astype(np.int64)


def _straight_sides(own: npt.NDArray[np.bool_], tolerance: float) -> _Sides | None:
    """The left and right sides of an upright band (bool (h, w), its box), each as (lean, offset)
    in columns per row and columns at row 0; None where they are not straight to within
    ``tolerance`` px (see PAGE_LINE_STRAIGHT) or lean more than PAGE_LINE_LEAN. Of the lines
    through the band's sides at two of nine rows spread over it (rows where it is one run), the
    one both sides of which hold along the most rows (a digit joined to the band, or a blob at
    its end, does not bend it), then refitted to those rows."""
    starts = own.copy()
    starts[:, 1:] &= ~own[:, :-1]
    single = np.flatnonzero(np.count_nonzero(starts, axis=1) == 1)
    if single.size < PAGE_LINE_STRAIGHT * own.shape[0]:
        return None
    band = own[single]
    sides = np.stack([np.argmax(band, axis=1), own.shape[1] - 1 - np.argmax(band[:, ::-1], axis=1)]).astype(np.float64)
    rows = single.astype(np.float64)
    best = np.zeros(rows.size, bool)
    picks = np.unique(np.linspace(0, rows.size - 1, 9).round().astype(np.int64))
    for a, b in itertools.combinations(picks.tolist(), 2):
        lean = (sides[:, b] - sides[:, a]) / (rows[b] - rows[a])
        if np.abs(lean).max() > PAGE_LINE_LEAN:
            continue
        near = (np.abs(sides - (sides[:, a : a + 1] + lean[:, None] * (rows - rows[a]))) <= tolerance).all(axis=0)
        if np.count_nonzero(near) > np.count_nonzero(best):
            best = near
    if np.count_nonzero(best) < max(3.0, PAGE_LINE_STRAIGHT * own.shape[0]):
        return None
    return _fitted_sides(rows[best], sides[0][best], sides[1][best])


def _fitted_sides(
    rows: npt.NDArray[np.float64], lefts: npt.NDArray[Any], rights: npt.NDArray[Any]
) -> _Sides | None:
    """A page line's sides (see _PageLine) fitted (least squares) to its first and last columns
    in ``rows``; None where either leans more than PAGE_LINE_LEAN px a row."""
    (lean_l, offset_l), (lean_r, offset_r) = (np.polyfit(rows, side, 1) for side in (lefts, rights))
    if max(abs(float(lean_l)), abs(float(lean_r))) > PAGE_LINE_LEAN:
        return None
    return (float(lean_l), float(offset_l)), (float(lean_r), float(offset_r))
