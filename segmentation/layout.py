"""Ink mask -> atoms and candidate digits of one line (over-segmentation).

The line is deskewed, split into connected components, cleared of specks,
and every component wide enough to hold two digits gets candidate cuts at the
minima of its column profile. Runs of consecutive atoms become candidates;
the decoder picks the best path through them, using the classifier's scores
(see :mod:`segmentation.decode`).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from segmentation.types import Atom, Box, Candidate, LineLayout

__all__ = [
    "cut_atoms",
    "estimate_line_height",
    "estimate_skew",
    "estimate_slant",
    "estimate_stroke_width",
    "find_rules",
    "find_rulings",
    "ink_axis",
    "one_stroke",
    "propose",
    "propose_lines",
    "remove_specks",
    "widen_candidates",
]


def estimate_skew(mask: npt.NDArray[np.bool_], *, max_angle: float = 20.0, min_elongation: float = 2.0) -> float:
    """Angle in degrees of the line of ink (counter-clockwise positive, image y down).

    From the principal axis of the ink pixels; 0.0 when the ink is not clearly
    elongated (its spread along the axis under ``min_elongation`` times that across: a single
    digit, a box not much wider than tall) or tilts more than ``max_angle``.
    """
    angle, elongation = ink_axis(mask)
    if elongation < min_elongation:
        return 0.0
    return angle if abs(angle) <= max_angle else 0.0


def ink_axis(mask: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """The principal axis of the ink pixels of a bool (H, W) mask: its angle in degrees
    (-90, 90], counter-clockwise positive (image y down), and the elongation, the ratio of
    the ink's spread along it to its spread across it; (0.0, 0.0) for fewer than 20 pixels."""
    ys, xs = np.nonzero(mask)
    if xs.size < 20:
        return 0.0, 0.0
    if xs.size > 50_000:
        pick = np.linspace(0, xs.size - 1, 50_000).astype(np.int64)
        xs, ys = xs[pick], ys[pick]
    cov = np.cov(np.vstack([xs, ys]).astype(np.float64))
    values, vectors = np.linalg.eigh(cov)
    if values[0] <= 0:
        return 0.0, 0.0
    vx, vy = vectors[:, 1]
    return _direction(-math.degrees(math.atan2(vy, vx))), math.sqrt(values[1] / values[0])


def _direction(angle: float) -> float:
    """An angle in degrees in (-180, 180] as the direction of a line, either way along it:
    folded into (-90, 90]."""
    return angle - 180.0 if angle > 90.0 else angle + 180.0 if angle <= -90.0 else angle


def _rotation(shape: tuple[int, int], angle: float) -> tuple[npt.NDArray[np.float64], tuple[int, int]]:
    """Affine matrix rotating by ``angle`` degrees about the centre, into a canvas that holds it all."""
    h, w = shape
    matrix = cast("npt.NDArray[np.float64]", cv2.getRotationMatrix2D((w / 2.0, h / 2.0), -angle, 1.0))
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(math.ceil(h * sin + w * cos)), int(math.ceil(h * cos + w * sin))
    matrix[0, 2] += new_w / 2.0 - w / 2.0
    matrix[1, 2] += new_h / 2.0 - h / 2.0
    return matrix, (new_h, new_w)


def _outline_lean(ink: npt.NDArray[np.uint8]) -> float:
    """The lean of ink's outlines (dx per dy, positive to the right), counted on their steps.

    Each step between neighbouring outline pixels goes up (n2), diagonally up and to the
    right (n1), up and to the left (n3), or sideways (left out): the chain-code estimate
    (n1 - n3) / (n1 + n2 + n3) used for handwritten words since Kimura, Shridhar and Chen
    (1993). A straight stroke leaning k (|k| <= 1) gives k exactly; curves count short of
    their lean, since their flat steps are left out. 0.0 for no outline.
    """
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return 0.0
    points = np.concatenate(contours)[:, 0].astype(np.int64)
    lengths = np.array([len(c) for c in contours])
    ends = np.cumsum(lengths)
    following = np.arange(1, len(points) + 1)
    following[ends - 1] = ends - lengths  # each outline closes on itself
    dx, dy = (points[following] - points).T
    upright = np.count_nonzero((dx == 0) & (dy != 0))
    right = np.count_nonzero(dx * dy == -1)  # rows grow downwards: up and right is dx = -dy
    left = np.count_nonzero(dx * dy == 1)
    counted = upright + right + left
    return (right - left) / counted if counted else 0.0


def estimate_slant(
    ink: npt.NDArray[np.uint8], *, max_slant: float = 0.9, iterations: int = 4, tolerance: float = 0.01
) -> float:
    """Shear ``k`` (dx per dy, positive when strokes lean right) that makes the writing upright.

    ``ink``: uint8 (H, W), ink nonzero. The lean is measured on the outlines
    (:func:`_outline_lean`, so touching digits count stroke by stroke, and round shapes by
    how they lean too), and the writing sheared by the estimate so far is measured again,
    each step scaled by the last step's effect (a secant step), until the outlines lean
    less than ``tolerance`` or after ``iterations`` measurements: curves count short of
    their lean, straight strokes exactly. Clipped to +-``max_slant``.
    """
    points = cv2.findNonZero(ink)
    if points is None:
        return 0.0
    x, y, w, h = cv2.boundingRect(points)
    ink = np.ascontiguousarray(ink[y : y + h, x : x + w])
    shear, lean = 0.0, _outline_lean(ink)
    # Measured on MNIST lines, the outlines count about 0.7 of a shear's change: the first step's gain.
    gain = 0.7
    for _ in range(iterations - 1):
        if abs(lean) < tolerance:
            break
        step = lean / gain
        new = _outline_lean(_sheared(ink, shear + step)[0])
        if lean != new:
            gain = float(np.clip((lean - new) / step, 0.35, 1.5))
        shear, lean = shear + step, new
    return float(np.clip(shear, -max_slant, max_slant))


def _shear(shape: tuple[int, int], k: float) -> tuple[npt.NDArray[np.float64], tuple[int, int]]:
    """Affine matrix x' = x + k * (y - h/2) (+ shift into a canvas that holds it all) and the canvas size (w, h)."""
    h, w = shape
    extra = abs(k) * h / 2.0
    matrix = np.array([[1.0, k, -k * h / 2.0 + extra], [0.0, 1.0, 0.0]])
    return matrix, (int(math.ceil(w + 2 * extra)), h)


def _sheared(ink: npt.NDArray[np.uint8], k: float) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """``ink`` (uint8 (H, W)) sheared by ``k`` onto the canvas :func:`_shear` sizes, nearest
    neighbour so a mask stays a mask, and the (2, 3) matrix that did it."""
    matrix, size = _shear(ink.shape, k)
    return np.asarray(cv2.warpAffine(ink, matrix, size, flags=cv2.INTER_NEAREST, borderValue=0), np.uint8), matrix


#: A mark at least LINE_ASPECT times as wide as it is tall is a line (an underline, a rule
#: across the page), not a digit, where anything taller is written: five touching digits are
#: about 3.5 times as wide as they are tall.
LINE_ASPECT = 15


def _line_height(stats: npt.NDArray[np.int32]) -> float:
    """Typical digit height from component stats (rows of cv2 stats, background excluded).

    Lines (see LINE_ASPECT) do not vote where anything taller is written: an underline across a
    page holds the most ink, and the digits beside it, under a tenth of it, went unmeasured.
    Thin bars (a box side, and most 1s) do not vote unless nothing else as tall as a quarter
    of them is there: flat bars alone (a box's top and bottom edges, a hyphen) are no digits
    to measure a 1 by.
    """
    heights, widths, areas = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_AREA]
    line = widths >= LINE_ASPECT * heights
    if line.any() and not line.all():
        # (A line as tall as every other mark still votes: beside a few specks, a fold's soft
        # band across a blank page is all there is to measure.)
        line &= heights < heights[~line].max()
        heights, widths, areas = heights[~line], widths[~line], areas[~line]
    wide = widths >= 0.15 * heights
    if wide.any() and heights[wide].max() >= 0.25 * heights.max():
        heights, areas = heights[wide], areas[wide]
    big = heights[areas >= 0.1 * areas.max()]
    tall = big[big >= 0.5 * big.max()]
    return float(np.median(tall))


def _writing_height(
    labels: npt.NDArray[np.int32], stats: npt.NDArray[np.int32], members: npt.NDArray[np.bool_]
) -> float:
    """:func:`_line_height` of the ``members`` of the components (a mask over the rows of
    ``stats``; row 0, the background, never counts); where they are all pieces of one digit
    stacked one over the other (:func:`_stacked_marks`, ``stroke=False``), the height of the
    stack: a lone digit the pen skipped across has only its pieces to be measured by."""
    stack = _stacked_marks(labels, stats, members, stroke=False)
    return float(stack.height) if stack is not None else _line_height(stats[1:][members[1:]])


def _labelled(binary: npt.NDArray[np.uint8]) -> tuple[int, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """The count, the label image and the stats (rows of cv2 stats, row 0 the background) of the
    8-connected components of a uint8 (H, W) image (nonzero is ink)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return int(count), np.asarray(labels, np.int32), np.asarray(stats, np.int32)


def one_stroke(mask: npt.NDArray[np.bool_]) -> Box | None:
    """The box (pixels) around the writing in a bool (H, W) ink mask where it is one stroke the
    pen skipped across (a lone 1), in pieces one under the other (see :func:`_stacked_marks`);
    None for one piece, for marks side by side (a line of digits), for rings, and for nothing."""
    _, labels, stats = _labelled(mask.view(np.uint8))
    return _stacked_marks(labels, stats, np.ones(stats.shape[0], bool))


#: Ink per row, in pen widths, under which a piece is one stroke: a ring, or a digit turned on its
#: side, crosses most rows twice or more.
STROKE_INK = 2.0


def _stacked_marks(
    labels: npt.NDArray[np.int32], stats: npt.NDArray[np.int32], members: npt.NDArray[np.bool_], *, stroke: bool = True
) -> Box | None:
    """The box around the ``members`` of the components (a mask over the rows of ``stats``; row 0,
    the background, never counts; those with a tenth of the largest one's ink or more) where they
    are the pieces of one digit the pen skipped across, stacked: two or more, each starting and
    ending lower than the one before, with fewer blank rows between them than
    :data:`STROKE_GAP` x the shorter one's height, and their columns overlapping (or, across
    blank rows, no further apart than there are rows). No piece is a flat bar (over three times
    as wide as tall), and none overlaps the rows of the one before by half the shorter one's
    height: two touching strings side by side are no stack. None otherwise.

    ``stroke``: the pieces must also make one stroke (a 1): each under :data:`STROKE_INK` pen
    widths of ink a row, and, but for a short end (under half the tallest one's height), no
    wider than tall; their rows may overlap (a leaning stroke cut along its lean). Nothing tells
    such pieces from lines of one 1 each that close, or a line turned on its side; one 1 is the
    likelier, but rings (a 0 over a 0) and digits turned on their side are not one stroke."""
    ids = np.flatnonzero(members[1:]) + 1
    if ids.size < 2:
        return None
    areas = stats[ids, cv2.CC_STAT_AREA]
    ids = ids[areas >= 0.1 * areas.max()]
    if ids.size < 2:
        return None
    x, y, w, h = (stats[ids, k].astype(np.int64) for k in range(4))
    right, bottom = x + w, y + h
    # A stroke's pieces stand upright but for a short end: a digit turned on its side is wider
    # than tall. A digit's pieces may be wide (the halves of a 3), but not flat (a rule).
    if np.any(((w > h) & (2 * h >= h.max())) if stroke else (w > 3 * h)):
        return None
    order = np.lexsort((bottom, y))
    x, y, h, right, bottom = x[order], y[order], h[order], right[order], bottom[order]
    blank = y[1:] - bottom[:-1]
    # Columns overlap, or, across blank rows, are no further apart than there are rows: a
    # leaning stroke cut across shifts its pieces sideways.
    aside = np.maximum(x[1:], x[:-1]) - np.minimum(right[1:], right[:-1])
    near = np.where(blank <= 0, aside < 0, aside <= blank)
    lower = (y[1:] > y[:-1]) & (bottom[1:] > bottom[:-1])
    shorter = np.minimum(h[1:], h[:-1])
    apart = stroke | (blank > -0.5 * shorter)
    if not np.all(near & lower & apart & (blank < STROKE_GAP * shorter)):
        return None
    box = Box(int(x.min()), int(y[0]), int(right.max() - x.min()), int(bottom.max() - y[0]))
    if not stroke:
        return box
    # The pen's width, from all the pieces: a short one alone measures it narrow.
    own = np.isin(labels[box.y : box.bottom, box.x : box.right], ids)
    pen = estimate_stroke_width(own.view(np.uint8))
    return None if np.any(stats[ids, cv2.CC_STAT_AREA] >= STROKE_INK * pen * stats[ids, cv2.CC_STAT_HEIGHT]) else box


#: Components up to which :func:`_centres_held` tests every centre against every box.
_FEW_COMPONENTS = 1024
#: Smallest side (px) of a printed box or comb field (see :func:`_printed_outline`).
_PRINTED_MIN_SIDE = 8


def find_rulings(
    stats: npt.NDArray[np.int32],
    *,
    line_height: float,
    min_aspect: float = 6.0,
    max_fill: float = 0.12,
    labels: npt.NDArray[np.int32] | None = None,
) -> npt.NDArray[np.bool_]:
    """Mask over components (row 0 is the background) of form furniture, not writing.

    Horizontal rules (an underline, the edge of a field: ``min_aspect`` times
    wider than tall, longer than 1.5 line heights, which a detached bar of
    a 5 or 7 never is, and at most half a line height tall) and frames around the centres of at least two other
    components, or of one at least half as wide and a third as tall: a thin
    outline, under ``max_fill`` of its box inked, or, given the component
    ``labels`` (int32 (H, W) from cv2), any outline whose ink keeps to its box's
    edges, however bold the pen. Given ``labels``, also a printed box or comb field around
    one component or none (see :func:`_printed_box`).
    """
    ruled = np.zeros(stats.shape[0], bool)
    centres = stats[1:, :2] + stats[1:, 2:4] / 2.0
    w, h = stats[:, cv2.CC_STAT_WIDTH].astype(np.int64), stats[:, cv2.CC_STAT_HEIGHT].astype(np.int64)
    # No thicker than half a digit: a long run of touching digits is as wide, but as tall as the writing.
    ruled[1:] = ((w >= min_aspect * h) & (w > 1.5 * line_height) & (h <= 0.5 * line_height))[1:]
    # Only a component with another's centre within its box can frame anything, and only one as
    # big as a printed box can be one: on a page of noise (tens of thousands of specks) testing
    # every centre against every box took seconds.
    holds = _centres_held(centres, stats) > 1
    candidates = np.flatnonzero(~ruled & (holds | ((labels is not None) & (np.minimum(w, h) >= _PRINTED_MIN_SIDE))))
    by_x = np.argsort(centres[:, 0], kind="stable")
    sorted_x = centres[by_x, 0]
    empty: list[int] = []
    for i in candidates[candidates > 0].tolist():
        xi, yi, wi, hi, area = (int(v) for v in stats[i])
        if holds[i]:
            near = by_x[np.searchsorted(sorted_x, xi, side="right") : np.searchsorted(sorted_x, xi + wi, side="left")]
            near = near[(centres[near, 1] > yi) & (centres[near, 1] < yi + hi) & (near != i - 1)]  # not its own centre
            # Nothing frames what is as big as itself either way: an upright 1 through the middle of
            # its box holds the box's centre, and was taken for a frame around the box; between two
            # rules, a digit joined to each makes two marks with one box, each holding the other's
            # centre, and each was taken for a frame around the other.
            near = near[(w[near + 1] < wi) & (h[near + 1] < hi)]
        else:
            near = np.zeros(0, np.int64)
        # Around two or more components; or around one that spans much of it, as digits that
        # all touch do (not a speck in a 0).
        sizes = stats[1:][near, 2:4]
        if not (sizes.shape[0] >= 2 or (sizes.shape[0] == 1 and sizes[0, 0] >= 0.5 * wi and sizes[0, 1] >= hi / 3)):
            if labels is not None and _printed_box(labels[yi : yi + hi, xi : xi + wi] == i):
                # A printed field around one digit is furniture; an empty one is judged below.
                digits = int(np.count_nonzero(sizes[:, 1] >= 0.25 * hi))
                ruled[i] = digits == 1
                if digits == 0:
                    empty.append(i)
            continue
        if area < max_fill * wi * hi:
            ruled[i] = True
        elif labels is not None:
            rim = max(3, int(0.15 * min(wi, hi)))
            own = labels[yi : yi + hi, xi : xi + wi] == i
            ruled[i] = np.count_nonzero(own[rim:-rim, rim:-rim]) <= 0.1 * area
    if empty:
        # An empty printed box is a field left blank, unless other writing, in no field, stands
        # nearly as tall as it: then it may be a boxy 0 in a line of digits. Another empty box
        # is no such writing: a row of blank fields is a form left blank, not "000".
        boxed = _centres_within(centres, stats[ruled]).any(axis=0)
        loose = ~boxed & ~ruled[1:]
        loose[np.asarray(empty) - 1] = False
        for i in empty:
            ruled[i] = not bool((stats[1:, cv2.CC_STAT_HEIGHT][loose] >= 0.8 * stats[i, cv2.CC_STAT_HEIGHT]).any())
    return ruled


def find_rules(ink: npt.NDArray[np.uint8], *, line_height: float, hairlines: bool = True) -> npt.NDArray[np.uint8]:
    """Pixels (255) of straight lines no digit has: near-horizontal ones longer than 2.5 line
    heights (rules, box tops and bottoms), near-vertical ones longer than 1.3 (box sides).

    ``ink``: uint8 (H, W), ink 255. Found with a probabilistic Hough transform, so a line that
    is a few degrees off level, or broken by noise, is still found; with ``hairlines``, also
    lines of 1 or 2 px that rasterizing left stepping from row to row. An upright line no taller
    than 1.8 line heights, clearly bolder than the level lines found (see :func:`_bolder`) and
    between two of them that run on past it both ways, is a 1 written from one to the other,
    not a box's side.
    """
    out = np.zeros_like(ink)
    if line_height <= 0:
        return out
    short = int(1.3 * line_height)
    gap = max(2, int(0.05 * line_height))
    # The shortest run a rule of either kind has from end to end along each axis, in px: a flat
    # one's columns (dy <= dx / 5 and 2.5 line heights long), an upright one's rows. A hair
    # under it, so that float rounding never skips a rule that the checks below would keep.
    across, down = (0.999 * k * line_height / math.sqrt(1.04) for k in (2.5, 1.3))
    # At half size (any ink in a 2x2 block inked, after thickening: see the hairlines below)
    # and for a quarter of the cost, a bound on what either search may find.
    half, half_gap = None, max(1, gap // 2)
    columns = rows = math.inf
    if min(ink.shape) >= 4:
        thickened = cv2.dilate(ink, np.ones((3, 3), np.uint8))
        size = (ink.shape[1] // 2, ink.shape[0] // 2)
        half = (cv2.resize(thickened, size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        # Each ink pixel's block is inked (its thickened 3 x 3 holds a pixel wholly in the
        # block, even where an odd side makes the blocks a little over 2 px): a chain of steps
        # of gap + 1 px runs through blocks at most (gap + 1) // 2 + 1 apart, over at most
        # twice the blocks' span, plus two.
        columns, rows = _reach(half, max(half_gap + 1, (gap + 1) // 2 + 1))
    segments = None
    if 2 * columns + 2 >= across or 2 * rows + 2 >= down:
        segments = cv2.HoughLinesP(
            ink, 1, np.pi / 360, threshold=max(10, short // 2), minLineLength=short, maxLineGap=gap
        )
    # A hairline (an underline in fine pen) a degree or two off level wanders between
    # accumulator cells as it is rasterized, and is found only in pieces too short to count.
    # Thickened, and at half size, it is found whole; so are paths along touching digits, which
    # is why what only the half-size copy shows must be far thinner than the pen to count as a
    # line.
    thick = None
    if hairlines and half is not None and (2 * columns >= across or 2 * rows >= down):
        thick = cv2.HoughLinesP(
            half, 1, np.pi / 360, threshold=max(10, short // 4), minLineLength=short // 2, maxLineGap=half_gap
        )
        thick = None if thick is None else thick * 2
    pen = estimate_stroke_width(ink) if thick is not None else 0.0
    found = [(segment, False) for segment in ([] if segments is None else segments.reshape(-1, 4))]
    found += [(segment, True) for segment in ([] if thick is None else thick.reshape(-1, 4))]
    # Longer than the top bars of two touching 7s, or a 2's base run into the next digit:
    # straight strokes of about 2 line heights that are no rule.
    kinds = []
    for (x0, y0, x1, y1), _ in found:
        dx, dy = abs(int(x1) - int(x0)), abs(int(y1) - int(y0))
        length = float(np.hypot(dx, dy))
        kinds.append((dy <= 0.2 * dx and length >= 2.5 * line_height, dx <= 0.2 * dy and length >= 1.3 * line_height, length))
    # As thick as the stroke under it: measured across the line at its middle. The level lines'
    # thickness tells an upright line printed with them (a box's side) from a 1 written from one
    # to the other.
    widths = {
        k: _stroke_across(ink, *(int(v) for v in found[k][0]))
        for k, (horizontal, vertical, _) in enumerate(kinds)
        if (horizontal or vertical) and not found[k][1]
    }
    level = [widths[k] - 2 for k in widths if kinds[k][0]]
    printed = float(np.median(level)) if level else 0.0
    # Level lines first: an upright one is then judged against them.
    for k in sorted(range(len(found)), key=lambda k: not kinds[k][0]):
        (x0, y0, x1, y1), hairline = found[k]
        horizontal, vertical, length = kinds[k]
        if not (horizontal or vertical):
            continue
        if vertical and k in widths and length <= 1.8 * line_height and _bolder(widths[k] - 2, printed):
            # No taller than the writing, bolder than the rules, and between two of them that
            # run on past it both ways: a 1 that the writer ran into both, not a box's side.
            left, top = min(int(x0), int(x1)), min(int(y0), int(y1))
            box = (left, top, max(int(x0), int(x1)) - left + 1, max(int(y0), int(y1)) - top + 1)
            if _ruled_across(out, *box, line_height=line_height):
                continue
        if hairline:
            fit = _hairline(ink, int(x0), int(y0), int(x1), int(y1), pen=pen)
            if fit is None:
                continue
            # Onto the line itself (the half-size search places it to a pixel or two), and
            # no thicker than it, wobble included: digits standing on it lose only that.
            run, shift = fit
            nx, ny = -(int(y1) - int(y0)) / length, (int(x1) - int(x0)) / length
            x0, y0, x1, y1 = (round(v) for v in (x0 + shift * nx, y0 + shift * ny, x1 + shift * nx, y1 + shift * ny))
            along = np.linspace(0.0, 1.0, 15)
            xs = np.clip(np.rint(x0 + along * (x1 - x0)).astype(np.int64), 0, out.shape[1] - 1)
            ys = np.clip(np.rint(y0 + along * (y1 - y0)).astype(np.int64), 0, out.shape[0] - 1)
            if np.count_nonzero(out[ys, xs]) >= 0.5 * along.size:
                continue  # a line already found whole: the runs beside it are digits' feet
            thickness = round(run) + 2
        else:
            thickness = widths[k]
        start = _extend(ink, (int(x1), int(y1)), (int(x0), int(y0)), thickness)
        end = _extend(ink, (int(x0), int(y0)), (int(x1), int(y1)), thickness)
        cv2.line(out, start, end, 255, thickness)
    return cast("npt.NDArray[np.uint8]", cv2.bitwise_and(out, ink))


def _reach(ink: npt.NDArray[np.uint8], step: int) -> tuple[int, int]:
    """The most columns and rows (px, from first to last) that ink pixels chained by steps of
    at most ``step`` px each way may span in ``ink`` (uint8 (H, W)): an upper bound.

    Every segment ``cv2.HoughLinesP`` returns with ``maxLineGap=step - 1`` is such a chain: it
    walks a line from ink pixel to ink pixel (its ends among them), missing at most that many
    in a row, each step one pixel along its main axis and at most one across. Where the bound is
    shorter than a rule, the transform (the costliest step of :func:`find_rules`, about 2 ms of
    an 800 x 600 photo of a few digits) need not run. Bounded by the components of the ink
    dilated by half a step, each pixel's square meeting the next one's.
    """
    reach = -(-step // 2)
    grown = cv2.dilate(ink, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    x, y, w, h = (stats[1:, k].astype(np.int64) for k in range(4))
    height, width = ink.shape
    # Take back the dilation, except where the image's edge clipped it.
    columns = w - 2 * reach + np.where(x == 0, reach, 0) + np.where(x + w == width, reach, 0)
    rows = h - 2 * reach + np.where(y == 0, reach, 0) + np.where(y + h == height, reach, 0)
    return int(columns.max(initial=1)) - 1, int(rows.max(initial=1)) - 1


def _runs_across(
    ink: npt.NDArray[np.uint8], x0: int, y0: int, x1: int, y1: int, *, at: npt.NDArray[np.float64], near: int, reach: int
) -> list[tuple[int, float]]:
    """At each fraction ``at`` of the way from (x0, y0) to (x1, y1), the run of ink across the
    segment (along its left-hand normal) through the inked pixel nearest it, within ``near`` px,
    followed at most ``reach`` px either way: (its length, its centre's offset from the segment),
    in px. Where no ink is that near, nothing."""
    h, w = ink.shape
    dx, dy = float(x1 - x0), float(y1 - y0)
    norm = max(float(np.hypot(dx, dy)), 1e-9)
    nx, ny = -dy / norm, dx / norm
    offsets = np.arange(-reach, reach + 1)
    # All points at once (one row each): a rule's check runs on every Hough segment of a photo.
    t = np.asarray(at, np.float64)[:, None]
    xs = np.rint(x0 + t * dx + offsets * nx).astype(np.int64)
    ys = np.rint(y0 + t * dy + offsets * ny).astype(np.int64)
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    on = np.zeros(xs.shape, bool)
    on[inside] = ink[ys[inside], xs[inside]] > 0
    # Nearest the segment first; of two as near, the one at -k.
    search = np.array(sorted(range(-near, near + 1), key=abs)) + reach
    hit = on[:, search]
    first = search[hit.argmax(axis=1)][:, None]
    columns = np.arange(offsets.size)
    gaps = ~on
    starts = np.where(gaps & (columns < first), columns, -1).max(axis=1) + 1
    ends = np.where(gaps & (columns > first), columns, offsets.size).min(axis=1) - 1
    return [
        (int(ends[k] - starts[k] + 1), (int(starts[k]) + int(ends[k])) / 2.0 - reach)
        for k in np.flatnonzero(hit.any(axis=1))
    ]


def _hairline(
    ink: npt.NDArray[np.uint8], x0: int, y0: int, x1: int, y1: int, *, pen: float, samples: int = 15
) -> tuple[float, float] | None:
    """Where ink follows the segment from (x0, y0) to (x1, y1) (within 3 px, at 80 % of
    ``samples`` points along it) as a line under half the ``pen`` width (px) thick, by the median
    of the ink runs across it: that median, and the runs' mean offset from the segment (px, along
    its left-hand normal); else None."""
    found = _runs_across(ink, x0, y0, x1, y1, at=np.linspace(0.03, 0.97, samples), near=3, reach=15)
    runs = [run for run, _ in found]
    if len(runs) < 0.8 * samples or float(np.median(runs)) > 0.5 * pen:
        return None
    return float(np.median(runs)), float(np.mean([shift for _, shift in found]))


def _extend(ink: npt.NDArray[np.uint8], origin: tuple[int, int], tip: tuple[int, int], thickness: int) -> tuple[int, int]:
    """Follow the straight line from ``origin`` through ``tip`` beyond ``tip`` while there is ink
    on it (gaps of 2 px bridged); the last inked point. Hough segments stop short of a rule's
    ends, and a stub left there would join the first or last digit."""
    h, w = ink.shape
    dx, dy = tip[0] - origin[0], tip[1] - origin[1]
    norm = float(np.hypot(dx, dy))
    if norm == 0.0:
        return tip
    ux, uy = dx / norm, dy / norm
    reach = max(1, thickness // 2)
    k = np.arange(-reach, reach + 1)
    last, misses, t, size = tip, 0, 1, 16
    # The points are looked at a stretch at a time, whole arrays (np.rint rounds half to even,
    # as round does): a rule across a big page is thousands of them, one by one in Python 1.4 s.
    while True:
        steps = np.arange(t, t + size)
        xs, ys = np.rint(tip[0] + steps * ux).astype(np.int64), np.rint(tip[1] + steps * uy).astype(np.int64)
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        stop = int(inside.argmin()) if not inside.all() else size  # (the first point off the image)
        # Ink anywhere across the line's width at a point counts.
        cx = np.rint(xs[:stop, None] - k * uy).astype(np.int64)
        cy = np.rint(ys[:stop, None] + k * ux).astype(np.int64)
        on = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        hit = np.zeros(cx.shape, bool)
        hit[on] = ink[cy[on], cx[on]] > 0
        inked_at = cast("list[bool]", hit.any(axis=1).tolist())
        for i, inked in enumerate(inked_at):
            if inked:
                last, misses = (int(xs[i]), int(ys[i])), 0
            else:
                misses += 1
                if misses > 2:
                    return last
        if stop < size:
            return last
        t, size = t + size, min(2 * size, 1024)


def _stroke_across(ink: npt.NDArray[np.uint8], x0: int, y0: int, x1: int, y1: int) -> int:
    """Thickness in pixels of the ink line from (x0, y0) to (x1, y1): the lower quartile of the
    ink runs across it at 19 points along it, plus 2. A run counts only the ink joined to the
    line. Where a digit's stroke crosses the line, or runs along it, the run is the stroke's and
    longer: a line through the writing has more such points than bare ones, and at their width
    it would take the digits' feet and loops with it. (Lower still, the 10th percentile, leaves
    a blurred rule's fringe stuck to the digits that touch it.)"""
    widths = [run for run, _ in _runs_across(ink, x0, y0, x1, y1, at=np.linspace(0.05, 0.95, 19), near=2, reach=12)]
    return int(np.clip(np.percentile(widths, 25) + 2, 2, 25)) if widths else 3


def _bolder(pen: float, printed: float) -> bool:
    """Whether a stroke ``pen`` px thick is clearly bolder than printed lines ``printed`` px
    thick (0.0: not known): at least 1.5 times as thick and 2 px more. A box's sides and a comb
    field's dividers are printed with its edges' pen; a 1 written from edge to edge, with the
    writer's, is as a rule bolder than a printed line. (A line 1 px thick one way may binarize
    2 px thick the other, by where it falls on the pixels.)"""
    return printed > 0.0 and pen >= max(1.5 * printed, printed + 2.0)


def _row_pen(own: npt.NDArray[np.bool_]) -> float:
    """The thickness in px of an upright mark (bool (h, w), its box): the median of its rows'
    ink."""
    counts = np.count_nonzero(own, axis=1)
    counts = counts[counts > 0]
    return float(np.median(counts)) if counts.size else 0.0


def _runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The runs of ink along the rows of a bool (H, W) mask: each one's row, first column and
    end column (exclusive), row by row, left to right."""
    edges = np.diff(np.pad(mask.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    rows, starts = np.nonzero(edges == 1)
    return rows, starts, np.nonzero(edges == -1)[1]


def _level_pen(rules: npt.NDArray[np.uint8]) -> float:
    """The thickness in px of the level lines in ``rules`` (uint8 (H, W), a rule's ink > 0):
    the median run of their pixels down a column (an upright line's few columns barely move
    it); 0.0 where there are none."""
    _, starts, ends = _runs((rules > 0).T)
    return float(np.median(ends - starts)) if starts.size else 0.0


def _ruled_across(rules: npt.NDArray[np.uint8], x: int, y: int, w: int, h: int, *, line_height: float) -> bool:
    """Whether lines of ``rules`` (uint8 (H, W), a line's pixels > 0) pass within a quarter
    ``line_height`` (px; 3 at least) of both the top and the bottom of a mark (its box: ``x``,
    ``y``, ``w``, ``h``, px) and run on past it as far on both sides: a ruled line's two rules, a
    box's edges around writing, but not a box's side, which ends its edges in corners."""
    reach = margin = max(3, int(0.25 * line_height))
    for top in (y, y + h - 1):
        band = rules[max(0, top - reach) : top + reach + 1] > 0
        left, right = band[:, max(0, x - margin) : x].any(axis=0), band[:, x + w : x + w + margin].any(axis=0)
        if min(left.size, right.size) < margin or min(float(left.mean()), float(right.mean())) < 0.8:
            return False
    return True


def remove_specks(
    stats: npt.NDArray[np.int32], *, line_height: float, min_area_ratio: float = 0.012, max_size_ratio: float = 0.2
) -> npt.NDArray[np.bool_]:
    """Keep-mask over components (row 0 is the background): drop those both tiny in area and in extent.

    ``stats``: cv2 connected-component stats. Thresholds are relative to the
    line height, so they hold at any image scale. A detached bar (the top of
    a 5) is small in area but not in extent, and is kept.
    """
    keep = np.zeros(stats.shape[0], bool)
    h2 = line_height * line_height
    for i in range(1, stats.shape[0]):
        _, _, w, h, area = stats[i]
        keep[i] = not (area < min_area_ratio * h2 and max(w, h) < max_size_ratio * line_height)
    return keep


def _seam_tables(
    masks: list[npt.NDArray[np.bool_]], *, ink_step: float = 0.0, rows: int | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], list[int]]:
    """Seam-carving tables of several component masks (bool (h, w) each), all in one pass.

    Each row a seam moves at most one column, each sideways step costs a little (and
    ``ink_step`` more onto ink), each ink pixel crossed costs much. The masks are packed side by
    side, top-aligned, between walls of infinite cost and run through the row recurrence
    together: one pass of numpy row operations for a whole line instead of one per component.
    Rows below a shorter mask cost nothing and allow no sideways step, so each mask's numbers
    are its own alone. ``rows``: only the first so many rows are filled in (the rest cost
    infinity). Returns the packed cost of the best seam from the top row to each cell (float
    (H, W)), the step each cell took from the row above (int8 (H, W): -1, 0, 1), and the column
    where each mask starts.
    """
    height = max(m.shape[0] for m in masks)
    width = sum(m.shape[1] + 1 for m in masks) + 1
    energy = np.full((height, width), np.inf)
    side = np.full((height, width), np.inf)
    offsets = []
    x = 1
    for m in masks:
        h, w = m.shape
        energy[:h, x : x + w] = m * 10.0
        energy[h:, x : x + w] = 0.0
        side[:h, x : x + w] = 0.5 + ink_step * m if ink_step else 0.5
        offsets.append(x)
        x += w + 1
    totals = np.full((height, width), np.inf)
    totals[0] = energy[0]
    back = np.zeros((height, width), np.int8)
    left = np.full(width, np.inf)
    right = np.full(width, np.inf)
    for r in range(1, height if rows is None else min(rows, height)):
        total = totals[r - 1]
        left[1:] = total[:-1] + side[r, 1:]
        right[:-1] = total[1:] + side[r, :-1]
        # Straight down unless a side is strictly cheaper; the left side wins a tie of sides.
        stay_or_left = np.minimum(total, left)
        back[r] = np.where(right < stay_or_left, 1, np.where(left < total, -1, 0))
        totals[r] = np.minimum(stay_or_left, right) + energy[r]
    return totals, back, offsets


def _follow(
    back: npt.NDArray[np.int8], rows: npt.NDArray[np.int64], columns: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Seams followed up a packed table's ``back`` steps, one per (row, column) they end at
    (int (S,) each): int (S, H), each seam's column per row, its end column at and below its
    end row."""
    paths = np.repeat(columns[:, None], back.shape[0], axis=1)
    for r in range(int(rows.max(initial=0)), 0, -1):
        paths[:, r - 1] = np.where(r <= rows, paths[:, r] + back[r, paths[:, r]], paths[:, r - 1])
    return paths


def _seam_ends(
    total: npt.NDArray[np.float64], line_height: float, *, max_cuts: int, max_piece: float = 0.35
) -> list[int]:
    """Bottom-row columns where cuts through one component end, from its seam costs ``total``.

    Seams end at the minima of the cost of the best seam ending in each column, away from
    the ends and spaced apart; then any stretch still wider than ``max_piece`` x line height
    gets its cheapest seam too, so that every join of two digits has a cut near it even
    where the joint is thick and leaves no clear minimum (the decoder re-joins the pieces
    of one digit). Sorted left to right.
    """
    w = total.shape[0]
    margin = max(2, int(0.15 * line_height))
    spacing = max(2, int(0.2 * line_height))
    if w < 2 * margin + 1:
        return []
    smooth = np.convolve(total, np.ones(3) / 3.0, mode="same")
    reach = margin // 2
    padded = np.pad(smooth, reach, constant_values=np.inf)
    lowest = padded[:w].copy()
    for k in range(1, 2 * reach + 1):
        np.minimum(lowest, padded[k : k + w], out=lowest)
    found = sorted((float(smooth[x]), x) for x in range(margin, w - margin) if smooth[x] <= lowest[x] + 1e-9)
    # Digits touch at thin joints: the cheapest seams first, spaced apart along the row.
    chosen: list[int] = []
    for _, x in found:
        if all(abs(x - c) >= spacing for c in chosen):
            chosen.append(x)
        if len(chosen) == max_cuts:
            break
    widest = max(spacing + 1, int(max_piece * line_height))
    while len(chosen) < 2 * max_cuts:
        bounds = [0, *sorted(chosen), w]
        gaps = [(b - a, a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b - a > widest]
        if not gaps:
            break
        _, a, b = max(gaps)
        lo, hi = a + spacing if a else margin, b - spacing if b < w else w - margin
        if hi <= lo:
            break
        chosen.append(lo + int(np.argmin(smooth[lo:hi])))
    return sorted(chosen)


def _distinct(seams: list[npt.NDArray[np.int64]], *, uncrossed: bool = False) -> list[npt.NDArray[np.int64]]:
    """Seams from nearby ends can run together up the same gap, and one cut is enough:
    drop each seam that is a near-copy of the one kept before it. ``uncrossed``: each seam is
    first pushed right of the one kept before it wherever it crosses it (seams in left-to-right
    order of mean column)."""
    kept: list[npt.NDArray[np.int64]] = []
    for path in seams:
        if uncrossed and kept:
            path = np.maximum(path, kept[-1])
        if not kept or np.abs(path - kept[-1]).mean() >= 2.0:
            kept.append(path)
    return kept


def _cuts(
    masks: list[npt.NDArray[np.bool_]], line_height: float, max_cuts: list[int]
) -> list[list[npt.NDArray[np.int64]]]:
    """Cuts through each of several components (bool (h, w) masks), at most ``max_cuts``
    cheapest ones each plus those that keep pieces narrow (:func:`_seam_ends`), and one down
    each gap between strokes at half height that opens to the top or the bottom
    (:func:`_gap_cuts`).

    Seams found from the bottom row up and from the top row down take different ways
    through a joint; both are kept, ordered and made not to cross, so pieces stay pieces.
    Returns per mask, per cut and row, the first column on the cut's right side."""
    if not masks:
        return []
    both = masks + [m[::-1] for m in masks]
    totals, back, offsets = _seam_tables(both)
    ends = [
        [offset + x for x in _seam_ends(totals[-1, offset : offset + m.shape[1]], line_height, max_cuts=limit)]
        for m, offset, limit in zip(both, offsets, max_cuts + max_cuts)
    ]
    # Every seam of the line is followed up in one pass; below a mask's last row steps are 0.
    flat = np.array([x for found in ends for x in found], np.int64)
    paths = _follow(back, np.full(flat.size, back.shape[0] - 1, np.int64), flat)
    traced: list[list[npt.NDArray[np.int64]]] = []
    row = 0
    for m, offset, found in zip(both, offsets, ends):
        traced.append(_distinct([path[: m.shape[0]] - offset for path in paths[row : row + len(found)]]))
        row += len(found)
    return [
        _distinct(sorted(down + [path[::-1] for path in up] + gaps, key=lambda p: float(p.mean())), uncrossed=True)
        for down, up, gaps in zip(traced[: len(masks)], traced[len(masks) :], _gap_cuts(masks))
    ]


def _gap_cuts(masks: list[npt.NDArray[np.bool_]]) -> list[list[npt.NDArray[np.int64]]]:
    """Per component (bool (h, w) masks), cuts down the gaps between its strokes at half height
    that open to the top or the bottom, such as the space between two 1s that touch at one end.
    Such a joint is often long and upright, and the cheapest seam ending in some bottom or top
    column rather crosses a stroke beside it; nor need a column in the gap be the cheapest of its
    stretch (:func:`_seam_ends`). So each gap gets the cheapest seam through it, from the gap's
    best column at half height up and down, that steps sideways onto ink only at a stroke's
    cost: through the joint, not across the stroke. A gap closed above and below (a 0's hole, an
    8's loops) gets none: on held-out digits, cuts there broke more readings than they mended.
    Per mask, per cut and row, the first column on the cut's right side."""
    if not masks:
        return []
    both = masks + [m[::-1] for m in masks]
    # Half height from the top and from the bottom (row h // 2 at most): the tables are needed
    # that far down only.
    totals, back, offsets = _seam_tables(both, ink_step=10.0, rows=max(m.shape[0] for m in masks) // 2 + 1)
    n = len(masks)
    starts: list[tuple[int, int, int]] = []  # (mask, half-height row, column)
    for i, m in enumerate(masks):
        h = m.shape[0]
        r = round((h - 1) / 2)
        down = totals[r, offsets[i] : offsets[i] + m.shape[1]]
        up = totals[h - 1 - r, offsets[n + i] : offsets[n + i] + m.shape[1]]
        inked = np.flatnonzero(m[r])
        for k in np.flatnonzero(np.diff(inked) > 1):
            a, b = int(inked[k]) + 1, int(inked[k + 1])
            c = a + int(np.argmin(down[a:b] + up[a:b]))
            # Open: a way to the top or the bottom row for less than one ink pixel's cost.
            if min(down[c], up[c]) < 10.0:
                starts.append((i, r, c))
    cuts: list[list[npt.NDArray[np.int64]]] = [[] for _ in masks]
    if not starts:
        return cuts
    mask_of = np.array([i for i, _, _ in starts])
    rows = np.array([r for _, r, _ in starts], np.int64)
    columns = np.array([c for _, _, c in starts], np.int64)
    heights = np.array([masks[i].shape[0] for i in mask_of], np.int64)
    # The upper half is followed up the table from the top; the lower half up the flipped one.
    above = _follow(back, rows, columns + np.array([offsets[i] for i in mask_of]))
    below = _follow(back, heights - 1 - rows, columns + np.array([offsets[n + i] for i in mask_of]))
    for s, (i, r, _) in enumerate(starts):
        h = heights[s]
        path = np.empty(h, np.int64)
        path[: r + 1] = above[s, : r + 1] - offsets[i]
        path[r:] = below[s, : h - r][::-1] - offsets[n + i]
        cuts[i].append(path)
    return cuts


def _centres_within(centres: npt.NDArray[np.float64], boxes: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
    """bool (boxes, centres): whether each centre (x, y) lies strictly inside each box (a row of
    cv2 stats: x, y, width, height, ...)."""
    x, y = boxes[:, 0, None], boxes[:, 1, None]
    w, h = boxes[:, 2, None], boxes[:, 3, None]
    return (centres[:, 0] > x) & (centres[:, 0] < x + w) & (centres[:, 1] > y) & (centres[:, 1] < y + h)


def _centres_held(centres: npt.NDArray[np.float64], stats: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """For each row of cv2 ``stats`` (row 0 the background), how many of ``centres`` (x, y; one
    a component) lie in its box, counting those on its left and top edges: at least as many as
    lie strictly inside it, its own included. Over _FEW_COMPONENTS, from a summed-area table
    of the centres: linear in the page's pixels, where testing every centre against every box
    is quadratic in their number (seconds on a page of noise)."""
    x, y, w, h = (stats[:, k].astype(np.int64) for k in range(4))
    columns, rows = np.floor(centres[:, 0]).astype(np.int64), np.floor(centres[:, 1]).astype(np.int64)
    if stats.shape[0] <= _FEW_COMPONENTS:
        across = (columns >= x[:, None]) & (columns < (x + w)[:, None])
        return (across & (rows >= y[:, None]) & (rows < (y + h)[:, None])).sum(axis=1)
    table = np.zeros((int((y + h).max()) + 1, int((x + w).max()) + 1), np.int32)
    np.add.at(table, (rows + 1, columns + 1), 1)
    table = table.cumsum(axis=0, dtype=np.int32).cumsum(axis=1, dtype=np.int32)
    return (table[y + h, x + w] - table[y, x + w] - table[y + h, x] + table[y, x]).astype(np.int64)


def _printed_box(own: npt.NDArray[np.bool_]) -> bool:
    """Whether a component's ink (bool (h, w), its box) is a printed box or comb field (see
    :func:`_printed_outline`)."""
    return _printed_outline(own) is not None


def _printed_outline(
    own: npt.NDArray[np.bool_], *, rectangular: float = 0.88, hollow: float = 0.25, min_side: int = _PRINTED_MIN_SIDE
) -> cv2.typing.RotatedRect | None:
    """The minimum-area rectangle of a component's outer outline (its ink: bool (h, w), its
    box) where the component is a printed box or comb field, else None: one outline whose
    outer edge and every hole bigger than a speck (2 % of it) are rectangles at any tilt
    (``rectangular``: contour area over its minimum-area rectangle's; an ellipse, a written 0,
    is 0.79), the holes together at least ``hollow`` of it."""
    if min(own.shape) < min_side:
        return None
    contours, hierarchy = cv2.findContours(own.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return None
    outer = [c for c, link in zip(contours, hierarchy[0]) if link[3] < 0]
    if len(outer) != 1:
        return None
    area = cv2.contourArea(outer[0])
    holes = [c for c, link in zip(contours, hierarchy[0]) if link[3] >= 0 and cv2.contourArea(c) >= 0.02 * area]
    if not holes or sum(cv2.contourArea(c) for c in holes) < hollow * area:
        return None

    def fill(contour: cv2.typing.MatLike) -> float:
        (_, _), (width, height), _ = cv2.minAreaRect(contour)
        return float(cv2.contourArea(contour)) / max(width * height, 1e-9)

    if any(fill(c) < rectangular for c in [outer[0], *holes]):
        return None
    return cv2.minAreaRect(outer[0])


def _edge(profile: npt.NDArray[np.float64], *, full: float, search: int, limit: int) -> tuple[int, int] | None:
    """Rows [start, end) of a frame's edge along ``profile`` (the inked share of each row, from
    the outside in): the first run of rows at least ``full`` inked that starts within ``search``
    rows and is at most ``limit`` rows thick. Outside it but for a ragged row, the rows hold
    only what crosses the frame (a quarter of them at most, a digit's tail): a thick 0 fills
    up row by row towards its first full row."""
    hits = np.flatnonzero(profile[:search] >= full)
    if hits.size == 0:
        return None
    start = end = int(hits[0])
    if start > 1 and float(profile[: start - 1].max()) > 0.25:
        return None
    while end < profile.size and profile[end] >= full:
        end += 1
    return (start, end) if end - start <= limit else None


#: The shortest side in px of a printed box that can hold a legible digit.
_MIN_FRAME_SIDE = 24


def _touched_frame(
    own: npt.NDArray[np.bool_],
    *,
    rectangular: float = 0.75,
    full: float = 0.7,
    thin: float = 0.15,
    min_side: int = _MIN_FRAME_SIDE,
) -> npt.NDArray[np.bool_] | None:
    """The ink of a printed box or comb field in a component that also holds writing touching
    it: ``own`` (bool (h, w), the component's box) in, the frame's pixels out (its four edges,
    and dividers that run from its top edge to its bottom one), or None when the component is
    no such thing.

    The rectangle is at least ``min_side`` px each way (room for a legible digit); the
    outline's hull fills ``rectangular`` of it (a digit's tail beyond the frame lowers that);
    turned upright, each edge is a run of rows (or columns) inked along ``full`` of the
    rectangle's length, under ``thin`` of its shorter side thick, with little beyond it (see
    :func:`_edge`); and once the edges are out some piece at least a quarter as tall as the
    frame's inside is left. No MNIST digit, thin or bold, passes all of these."""
    h, w = own.shape
    if min(h, w) < min_side:
        return None
    u8 = own.astype(np.uint8)
    outlines, _ = cv2.findContours(u8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if len(outlines) != 1:
        return None
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(outlines[0])
    # The hull: a corner the pen or the photo left open lets the outline into the frame.
    if min(rw, rh) < min_side or cv2.contourArea(cv2.convexHull(outlines[0])) < rectangular * rw * rh:
        return None
    # Upright, by the smaller of the two turns that level the rectangle's sides.
    turn = angle - 90.0 if angle > 45.0 else angle + 90.0 if angle < -45.0 else angle
    matrix = cv2.getRotationMatrix2D((cx, cy), turn, 1.0)
    upright = cv2.warpAffine(u8, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=0) if abs(turn) >= 0.2 else u8
    corners = cv2.transform(cv2.boxPoints(((cx, cy), (rw, rh), angle))[None], matrix)[0]
    x0, y0 = (max(0, int(np.floor(v))) for v in corners.min(axis=0))
    x1, y1 = (int(np.ceil(v)) + 1 for v in corners.max(axis=0))
    inner = upright[y0:y1, x0:x1] > 0
    ih, iw = inner.shape
    if min(ih, iw) < min_side:
        return None
    limit = max(1, int(thin * min(ih, iw)))
    rows, columns = inner.mean(axis=1), inner.mean(axis=0)
    search_rows, search_columns = max(3, int(0.2 * ih)), max(3, int(0.2 * iw))
    edges: list[tuple[int, int]] = []
    for profile, search in (
        (rows, search_rows),
        (rows[::-1], search_rows),
        (columns, search_columns),
        (columns[::-1], search_columns),
    ):
        edge = _edge(profile, full=full, search=search, limit=limit)
        if edge is None:
            return None
        edges.append(edge)
    top, bottom, left, right = edges
    inside_top, inside_bottom = top[1], ih - bottom[1]
    inside_left, inside_right = left[1], iw - right[1]
    if inside_bottom - inside_top < min_side // 2 or inside_right - inside_left < min_side // 2:
        return None
    frame = np.zeros_like(inner)
    frame[top[0] : top[1]] = True
    frame[ih - bottom[1] : ih - bottom[0]] = True
    frame[:, left[0] : left[1]] = True
    frame[:, iw - right[1] : iw - right[0]] = True
    # A comb field's dividers: columns inked from the top edge down to the bottom one, printed
    # with the sides' pen (a written stroke from edge to edge, a 4's stem, is as a rule bolder).
    # (Measured a column wider each way: a fine divider a fraction of a degree off the turn
    # steps from one column to the next.)
    between = inner[inside_top:inside_bottom]
    wide = cv2.dilate(between.astype(np.uint8), np.ones((1, 3), np.uint8)) > 0
    across = wide.mean(axis=0)
    divider = np.zeros(iw, bool)
    divider[inside_left:inside_right] = across[inside_left:inside_right] >= 0.95
    side = max(left[1] - left[0], right[1] - right[0])
    count, runs, run_stats, _ = cv2.connectedComponentsWithStats(divider[None].astype(np.uint8), connectivity=4)
    for k in range(1, count):
        start, width = int(run_stats[k, cv2.CC_STAT_LEFT]), int(run_stats[k, cv2.CC_STAT_WIDTH])
        # Apart from the sides: the widened side itself runs into the first column inside. A 1
        # from edge to edge that a narrow stretch of columns holds whole is told by its pen.
        if (
            width <= side + 3
            and start > inside_left
            and start + width < inside_right
            and not _bolder(_run_pen(between, start + width // 2), float(side))
        ):
            frame[:, runs[0] == k] = True
    frame &= inner
    placed = np.zeros_like(u8)
    placed[y0 : y0 + ih, x0 : x0 + iw] = frame
    if abs(turn) >= 0.2:
        back = cv2.warpAffine(placed, matrix, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0)
        found = (np.asarray(cv2.dilate(back, np.ones((3, 3), np.uint8))) > 0) & own
    else:
        found = (placed > 0) & own
    # Writing left once the frame is out: a piece as tall as a quarter of the frame's inside.
    count, _, stats, _ = cv2.connectedComponentsWithStats((own & ~found).astype(np.uint8), connectivity=8)
    if count <= 1 or int(stats[1:, cv2.CC_STAT_HEIGHT].max()) < 0.25 * (inside_bottom - inside_top):
        return None
    return found


def _run_pen(ink: npt.NDArray[np.bool_], column: int) -> float:
    """The thickness in px of the stroke down ``column`` of ``ink`` (bool (h, w)): the median,
    over the rows inked there, of the run of ink through it; 0.0 where none is."""
    _, starts, ends = _runs(ink)
    through = (starts <= column) & (ends > column)
    return float(np.median(ends[through] - starts[through])) if through.any() else 0.0


def _touched_frames(labels: cv2.typing.MatLike, stats: cv2.typing.MatLike) -> tuple[npt.NDArray[np.uint8], int] | None:
    """Pixels (255, uint8 like ``labels``) of the printed boxes and comb fields that writing
    touches (see :func:`_touched_frame`), and the tallest one's height (px); None where there is
    none."""
    out: npt.NDArray[np.uint8] | None = None
    tallest = 0
    for i in range(1, stats.shape[0]):
        x, y, w, h, area = (int(v) for v in stats[i])
        # Big enough to hold a digit, and mostly hollow, as a frame with a digit or two in it is.
        if min(w, h) < _MIN_FRAME_SIDE or area > 0.5 * w * h:
            continue
        frame = _touched_frame(labels[y : y + h, x : x + w] == i)
        if frame is None:
            continue
        if out is None:
            out = np.zeros(labels.shape, np.uint8)
        out[y : y + h, x : x + w][frame] = 255
        tallest = max(tallest, h)
    return None if out is None else (out, tallest)


def _components(
    ink: npt.NDArray[np.uint8],
) -> (
    tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.bool_], float, npt.NDArray[np.uint8] | None]
    | None
):
    """Labels, stats, form-furniture mask and line height of an ink image, and the pixels
    (255) of the frames that writing touched, taken out before labelling (None where none
    was); None when nothing is written."""
    count, labels, stats = _labelled((ink > 0).astype(np.uint8))
    if count <= 1:
        return None
    # A printed box or comb field that a digit touches is one component with the digit, and
    # neither a frame around other components nor writing: its edges and dividers come out
    # (but where a stroke crosses them), and the rest is labelled again.
    touched = _touched_frames(labels, stats)
    frames = None
    if touched is not None:
        frames = _under_strokes(ink, touched[0], line_height=touched[1])
        ink = np.asarray(cv2.subtract(ink, frames), np.uint8)
        count, labels, stats = _labelled((ink > 0).astype(np.uint8))
        if count <= 1:
            return None
    # Two passes: a frame can be the tallest thing on the page and would set the line height.
    ruled = find_rulings(stats, line_height=_writing_height(labels, stats, np.ones(count, bool)), labels=labels)
    if ruled[1:].all():
        return None
    line_height = _writing_height(labels, stats, ~ruled)
    ruled = find_rulings(stats, line_height=line_height, labels=labels)
    if ruled[1:].all():
        return None
    return labels, stats, ruled, _writing_height(labels, stats, ~ruled), frames


#: What :func:`_writing` finds: component labels (int32 (H, W)), their cv2 stats, a keep-mask
#: over them (the writing) and the line height in px.
_Writing = tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.bool_], float]


def _writing(ink: npt.NDArray[np.uint8]) -> _Writing | None:
    """Labels, stats, keep-mask over components (the writing) and line height; None when
    nothing is written. Rules, box edges, frames, specks and stray bars are left out."""
    found = _components(ink)
    if found is None:
        return None
    # Straight lines longer than any digit stroke are rules or box edges, even where digits
    # touch them: take their pixels out and look again. (Digits lose only the sliver they share.)
    rules = find_rules(ink, line_height=found[3])
    if found[4] is not None:
        # Rules are sought on the ink as it is; a touched frame must go with them, or what the
        # rules leave of it is no frame any more, and stays stuck to its digits.
        rules = np.maximum(rules, found[4])
    first = found
    if rules.any():
        unruled = cast("npt.NDArray[np.uint8]", cv2.subtract(ink, _under_strokes(ink, rules, line_height=found[3])))
        found = _components(unruled)
        if found is None:
            if not _one_upright_line(rules, line_height=first[3]):
                return None
            # All the ink is one upright line, and nothing stands beside it for it to be the
            # side of: the halves of a 1 the pen broke, measured as two digits' height.
            found, rules = first, np.zeros_like(rules)
    labels, stats, ruled, line_height, _ = found
    # Ink of the frames found before the rules came out: what is left of their sides.
    frames = first[2][first[0]] if rules.any() and first[2][1:].any() else None
    boxes = _printed_boxes(first[0], first[1], first[2]) if frames is not None else None
    if boxes is not None and boxes.any():
        # What the rules leave of a printed box is still furniture: a row of boxes whose edges run
        # on into one rule falls apart into pieces that are no boxes, and must not be read or set
        # the line height (a box's). A box holds no writing (a digit that touches it makes its
        # holes no rectangles); pieces of other furniture (a frame a digit touched) are judged again.
        remnants = _within(boxes[first[0]], labels, stats) & ~ruled
        if remnants.any():
            ruled = ruled | remnants
            if ruled[1:].all():
                return None
            line_height = _writing_height(labels, stats, ~ruled)
    keep = remove_specks(stats, line_height=line_height) & ~ruled
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    if frames is not None:
        # A flat bar cut out of a bigger piece of furniture when the rules came out is what is
        # left of it (a field's edge too short to pass for a rule, once the field's sides did),
        # not a 1 lying down. (A hyphen once taken for a frame on its own is whole: it stays.)
        for i in np.flatnonzero(keep):
            x, y, w, h = (int(v) for v in stats[i, :4])
            if h > 0.25 * line_height or w < 3 * h:
                continue
            own = labels[y : y + h, x : x + w] == i
            before = np.unique(first[0][y : y + h, x : x + w][own])
            whole = int(first[1][before, cv2.CC_STAT_AREA].sum())
            if bool(first[2][before].all()) and whole > 2 * int(stats[i, cv2.CC_STAT_AREA]):
                keep[i] = False
    # A vertical stroke far taller than the writing is a box edge or a margin line, not a 1;
    # a thin bar at either end standing out above and below all the writing is the side of a box.
    keep[1:] &= heights[1:] <= 1.8 * line_height
    written = _written_bars(labels, stats, keep, rules, line_height)
    if rules.any():
        # A thin upright bar that ran into a rule at its top and at its bottom is a box's side or
        # a comb field's divider, however short the box: a written 1 meets neither line, or is
        # drawn bolder than the lines it meets (``written``).
        reach = max(3, int(0.1 * line_height))
        for i in np.flatnonzero(keep):
            x, y, w, h = (int(v) for v in stats[i, :4])
            if h < 0.8 * line_height:
                continue
            own = labels[y : y + h, x : x + w] == i
            # A side left wider than that by its corners' stubs, or by a lean, is known by
            # having been part of a frame, and by its straightness (not a 4 that touched both).
            side = frames is not None and bool(frames[y : y + h, x : x + w][own].all()) and _upright_bar(own, line_height)
            if (w < 0.25 * line_height or side) and not written[i]:
                left, right = max(0, x - reach), x + w + reach
                # Met by a line across it, or by more of an upright line it is part of (above
                # it, or below, in its own columns); not by the side of a box it stands beside,
                # which passes its ends but crosses only a column or two beside them.
                top = (
                    rules[max(0, y - reach) : y + reach, left:right].any(axis=0).mean() >= 0.4
                    or rules[max(0, y - reach) : y, x : x + w].any()
                )
                bottom = (
                    rules[max(0, y + h - reach) : y + h + reach, left:right].any(axis=0).mean() >= 0.4
                    or rules[y + h : y + h + reach, x : x + w].any()
                )
                keep[i] = not (top and bottom)
    kept = np.flatnonzero(keep)
    if kept.size > 1:
        by_x = kept[np.argsort(stats[kept, cv2.CC_STAT_LEFT])]
        tops = stats[:, cv2.CC_STAT_TOP]
        bottoms = tops + heights
        margin = 0.05 * line_height
        for end in {int(by_x[0]), int(by_x[-1])}:
            others = kept[(kept != end) & (heights[kept] >= 0.5 * line_height) & (widths[kept] >= 0.2 * line_height)]
            if others.size == 0:
                continue
            # Beyond the writing at both ends, as a box's sides stand around it: a 1 written tall
            # reaches from the top of the writing to below it (or the other way), and stays.
            spans = tops[end] < tops[others].min() - margin and bottoms[end] > bottoms[others].max() + margin
            if spans and heights[end] >= 1.15 * line_height and widths[end] < 0.2 * line_height:
                keep[end] = False
    _drop_thin_end_bars(labels, stats, keep, line_height, written=written)
    if not keep.any():
        return None
    return labels, stats, keep, line_height


def _printed_boxes(
    labels: npt.NDArray[np.int32], stats: npt.NDArray[np.int32], furniture: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Mask over the components of ``labels`` (row 0 the background): those ``furniture`` marks
    that are printed boxes (see :func:`_printed_box`)."""
    out = np.zeros(stats.shape[0], bool)
    for j in np.flatnonzero(furniture):
        x, y, w, h = (int(v) for v in stats[j, :4])
        out[j] = _printed_box(labels[y : y + h, x : x + w] == j)
    return out


def _within(
    pixels: npt.NDArray[np.bool_], labels: npt.NDArray[np.int32], stats: npt.NDArray[np.int32]
) -> npt.NDArray[np.bool_]:
    """Mask over the components of ``labels`` (row 0 the background): those whose every pixel is
    set in ``pixels`` (bool (H, W))."""
    out = np.zeros(stats.shape[0], bool)
    for i in range(1, stats.shape[0]):
        x, y, w, h = (int(v) for v in stats[i, :4])
        out[i] = bool(pixels[y : y + h, x : x + w][labels[y : y + h, x : x + w] == i].all())
    return out


def _one_upright_line(rules: npt.NDArray[np.uint8], *, line_height: float) -> bool:
    """Whether the pixels of ``rules`` (uint8 (H, W), 255) are one upright line: its pieces
    (where the ink under it broke) share columns, and it is narrower than half of
    ``line_height`` (px), with no rule or box edge across it."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((rules > 0).astype(np.uint8), connectivity=8)
    lefts = stats[1:, cv2.CC_STAT_LEFT]
    rights = lefts + stats[1:, cv2.CC_STAT_WIDTH]
    return count > 1 and int(lefts.max()) < int(rights.min()) and int(rights.max() - lefts.min()) < 0.5 * line_height


def _under_strokes(ink: npt.NDArray[np.uint8], rules: npt.NDArray[np.uint8], *, line_height: float) -> npt.NDArray[np.uint8]:
    """``rules`` less the pixels where a stroke crosses them: rule pixels reached straight down
    from the writing's ink above and straight up from its ink below, each within a rule's
    thickness. A digit written across a rule stays one piece; the rule between digits, and
    under a stroke that only touches it, still goes."""
    writing = cv2.subtract(ink, rules) > 0
    inside = rules > 0
    reach = max(2, int(0.25 * line_height))
    crossed = []
    for down in (True, False):  # down from the ink above, then up from the ink below
        front, seen = writing, np.zeros_like(inside)
        for _ in range(reach):
            moved = np.zeros_like(front)
            if down:
                moved[1:] = front[:-1]
            else:
                moved[:-1] = front[1:]
            front = moved & inside & ~seen
            if not front.any():
                break
            seen |= front
        crossed.append(seen)
    return np.where(crossed[0] & crossed[1], 0, rules).astype(np.uint8)


def _upright_bar(own: npt.NDArray[np.bool_], line_height: float) -> bool:
    """Whether a component's ink (bool (h, w), its box) is a straight upright bar but for a few
    rows: thin rows (median under a quarter line height) whose centres keep within
    max(2 px, 0.06 line heights) of one line leaning at most 0.2 px per row. A box's side a
    few degrees off upright, with the stubs the rules left of its corners, is; a 4, a 7 or
    the arc of a 0 that a rule cut is not."""
    counts = np.count_nonzero(own, axis=1)
    rows = np.flatnonzero(counts)
    if rows.size < 3 or float(np.median(counts[rows])) >= 0.25 * line_height:
        return False
    centres = (own[rows] * np.arange(own.shape[1])).sum(axis=1) / counts[rows]
    lean, offset = np.polyfit(rows.astype(np.float64), centres, 1)
    near = np.abs(centres - (lean * rows + offset)) <= max(2.0, 0.06 * line_height)
    return abs(float(lean)) <= 0.2 and float(near.mean()) >= 0.85


def _written_bars(
    labels: npt.NDArray[np.int32],
    stats: npt.NDArray[np.int32],
    keep: npt.NDArray[np.bool_],
    rules: npt.NDArray[np.uint8],
    line_height: float,
) -> npt.NDArray[np.bool_]:
    """Mask over the components of ``labels`` (row 0 the background): the ``keep`` ones that are
    upright strokes written between two printed lines of ``rules`` (uint8 (H, W)) that run on
    past them both ways (see :func:`_ruled_across`), drawn clearly bolder than those lines
    (see :func:`_bolder`): a 1 that runs into a ruled line's rules or into its box's top and
    bottom edges, where a box's side or a comb field's divider was looked for."""
    out = np.zeros(stats.shape[0], bool)
    if not rules.any():
        return out
    printed = _level_pen(rules)
    for i in np.flatnonzero(keep):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if h < 2 * w:
            continue
        bolder = _bolder(_row_pen(labels[y : y + h, x : x + w] == i), printed)
        out[i] = bolder and _ruled_across(rules, x, y, w, h, line_height=line_height)
    return out


def estimate_stroke_width(mask: npt.NDArray[np.uint8]) -> float:
    """Mean stroke width in pixels of a binary mask (ink > 0), as 2 * area / perimeter.

    A stroke of width w and length L has area ~ w*L and outline ~ 2*L; holes
    count towards the outline, as they should. The classifier's normalization sets pen
    width with it; here it tells a box's printed sides from the writer's strokes.
    """
    binary = mask if mask.dtype == np.uint8 else (mask > 0).astype(np.uint8)
    area = float(cv2.countNonZero(binary))
    if area == 0.0:
        return 0.0
    # Any nonzero pixel is ink to findContours, which leaves its input as it is.
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    if perimeter <= 0.0:
        return 1.0
    return max(1.0, 2.0 * area / perimeter)


def _drop_thin_end_bars(
    labels: npt.NDArray[np.int32],
    stats: npt.NDArray[np.int32],
    keep: npt.NDArray[np.bool_],
    line_height: float,
    *,
    max_ratio: float = 0.5,
    shaped_ratio: float = 0.35,
    written: npt.NDArray[np.bool_] | None = None,
) -> None:
    """Take out of ``keep`` (in place) marks at either end of the line drawn with a far thinner
    pen than the digits (under ``max_ratio`` of their median stroke width): the side of a box
    or frame printed before the writing, its corners, a remnant of its edges, where those
    were too faint or broken to be found as rules. A written 1 has the writer's pen. A mark at
    least a quarter line height both wide and tall (no side, no edge) goes only under
    ``shaped_ratio``: a digit written faintly binarizes thin. (On the held-out photos where
    taking such marks out changed the reading, faint digits' pens were 0.37-0.49 of the
    writer's, and those of the printed sides and edges, all narrow or flat, 0.17-0.30.) A mark
    that ``written`` (a mask over the components) sets stays (see :func:`_written_bars`: a 1
    drawn thinner than the digits beside it, run into a box's edges)."""
    kept = np.flatnonzero(keep)
    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    digits = kept[(heights[kept] >= 0.5 * line_height) & (widths[kept] >= 0.25 * line_height)]
    # One component of digits will do for the writer's pen: digits that all touch are one.
    if kept.size < 2 or digits.size < 1:
        return

    def pen(i: int) -> float:
        x, y, w, h = (int(v) for v in stats[i, :4])
        return estimate_stroke_width((labels[y : y + h, x : x + w] == i).astype(np.uint8))

    writer = float(np.median([pen(int(i)) for i in digits]))
    lefts, rights = stats[kept, cv2.CC_STAT_LEFT], stats[kept, cv2.CC_STAT_LEFT] + widths[kept]
    for end in (kept[np.argsort(lefts, kind="stable")], kept[np.argsort(-rights, kind="stable")]):
        # Peel from the end inwards: a corner stub or a rule's remnant can stand outside the side.
        for i in (int(i) for i in end[:3]):
            shaped = min(widths[i], heights[i]) >= 0.25 * line_height
            if pen(i) >= (shaped_ratio if shaped else max_ratio) * writer:
                break
            if written is not None and written[i]:
                break
            keep[i] = False


def estimate_line_height(mask: npt.NDArray[np.bool_], *, thorough: bool = False) -> float:
    """Typical height in pixels of the digits in a bool (H, W) ink mask (frames, long bars and
    thin bars do not vote); 0.0 when nothing is written. Quick: measured on the mask as it is,
    tilt included, and a box drawn as thick as the writing may vote. ``thorough``: the line is
    levelled and rules, box edges and box sides taken out first, as :func:`propose` does (a
    few ms more)."""
    if not thorough:
        found = _components(mask.astype(np.uint8) * 255)
        return 0.0 if found is None else found[3]
    writing = _levelled_writing(mask)[2]
    return 0.0 if writing is None else writing[3]


#: The most tilt in degrees at which a line of ink is left as it stands where a hairline lies
#: level across it (see :func:`_level_line`): the digits in a level box or between level rules
#: lean the ink's axis 1-2 degrees by where they stand.
LEVEL_LINE_TILT = 3.0


def _level_line(mask: npt.NDArray[np.bool_]) -> bool:
    """Whether a bool (H, W) ink mask holds a level hairline: a row with an unbroken run of ink
    across 0.8 of the ink's width and 40 px, the rows just above and below it inked along under
    half of that run (a rule across the page, a box's edge around the writing, printed 1 px
    thick; digits that touch it ink a little beside it). A line that leans spans that width
    only in pieces, one a row; a thicker one, level or a degree off (its middle row may span the
    width), inks the rows beside that run too, and turned is still found whole as a rule."""
    columns = np.flatnonzero(mask.any(axis=0))
    if columns.size == 0:
        return False
    need = max(40, int(0.8 * (columns[-1] - columns[0] + 1)))
    # (Rows on the image's edge have no row beside them to ask.)
    inner = np.flatnonzero(np.count_nonzero(mask[1:-1], axis=1) >= need) + 1
    rows, starts, ends = _runs(mask[inner])
    long = ends - starts >= need
    for row, start, end in zip(inner[rows[long]].tolist(), starts[long].tolist(), ends[long].tolist()):
        if bool((mask[row - 1 : row + 2 : 2, start:end].mean(axis=1) < 0.5).all()):
            return True
    return False


def _levelled(
    mask: npt.NDArray[np.bool_], *, deskew: bool = True, angle: float | None = None
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.uint8]]:
    """The skew angle of a bool (H, W) ink mask (0.0 without ``deskew``, and within
    ``LEVEL_LINE_TILT`` where a hairline lies level across it; ``angle`` where given), the affine
    map that levels it (2x3; identity under half a degree) and the levelled ink (uint8, 255 on
    ink)."""
    if angle is None:
        angle = estimate_skew(mask) if deskew else 0.0
        if 0.5 <= abs(angle) <= LEVEL_LINE_TILT and _level_line(mask):
            # A hairline printed level says the page is: turned by the writing's lean, it would
            # step from row to row, be found only in pieces, and the digits it touches with it.
            angle = 0.0
    ink = mask.astype(np.uint8) * 255
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if abs(angle) >= 0.5:
        matrix, shape = _rotation(mask.shape, angle)
        turned = cv2.warpAffine(ink, matrix, (shape[1], shape[0]), flags=cv2.INTER_NEAREST, borderValue=0)
        ink = cast("npt.NDArray[np.uint8]", turned)
    return angle, matrix, ink


def _levelled_writing(
    mask: npt.NDArray[np.bool_], *, deskew: bool = True
) -> tuple[float, npt.NDArray[np.float64], _Writing | None]:
    """The skew angle and levelling map of :func:`_levelled`, and the writing of the levelled
    ink (:func:`_writing`). Where the ink's axis says nothing of its tilt
    (:func:`estimate_skew` gives exactly 0.0) but a printed box holds the writing, the box's
    sides give it (:func:`_frame_tilt`): a box not much wider than tall is most of the ink,
    and left tilted, a line of touching digits in it is one tall component that sets the line
    height."""
    angle, matrix, ink = _levelled(mask, deskew=deskew)
    if deskew and angle == 0.0:
        tilt = _frame_tilt(ink)
        if tilt is not None and 0.5 <= abs(tilt) <= 20.0:
            angle, matrix, ink = _levelled(mask, angle=tilt)
    return angle, matrix, _writing(ink)


def _frame_tilt(ink: npt.NDArray[np.uint8]) -> float | None:
    """The tilt in degrees (as :func:`estimate_skew` measures it) of a printed box around the
    rest of an ink image (uint8 (H, W), ink > 0): the long side of the minimum-area rectangle
    of the biggest component, where that is a printed box (:func:`_printed_outline`) holding the
    centres of the other components with 90 % of their ink (a speck outside may stay); None
    where there is none. A box taller than wide gives the tilt of its sides, near 90 degrees,
    which levels nothing: a lone digit's box is left as it stands."""
    count, labels, stats = _labelled((ink > 0).astype(np.uint8))
    if count < 3:
        return None
    j = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_WIDTH] * stats[1:, cv2.CC_STAT_HEIGHT]))
    x, y, w, h = (int(v) for v in stats[j, :4])
    others = np.delete(stats[1:], j - 1, axis=0)
    held = _centres_within(others[:, :2] + others[:, 2:4] / 2.0, stats[j : j + 1])[0]
    areas = others[:, cv2.CC_STAT_AREA]
    if int(areas[held].sum()) < 0.9 * int(areas.sum()):
        return None
    rectangle = _printed_outline(labels[y : y + h, x : x + w] == j)
    if rectangle is None:
        return None
    corners = cv2.boxPoints(rectangle)
    sides = np.diff(np.vstack([corners, corners[:1]]), axis=0)
    dx, dy = (float(v) for v in sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))])
    # Image rows run down: a side rising to the right has dy < 0 and a positive tilt.
    return _direction(-math.degrees(math.atan2(dy, dx)))


def _reading_order(atom: Atom) -> tuple[float, int]:
    """Sort key of a line's atoms: left to right by their boxes' centres, then top to bottom.
    Candidates are runs of consecutive atoms in this order, wherever the atoms were made."""
    return atom.box.x + atom.box.width / 2.0, atom.box.y


def _gap(a: Atom, b: Atom) -> int:
    """Horizontal gap from atom ``a`` to ``b`` (negative when they overlap)."""
    return max(a.box.x, b.box.x) - min(a.box.right, b.box.right)


def propose(
    mask: npt.NDArray[np.bool_],
    *,
    deskew: bool = True,
    deslant: bool = True,
    max_atoms: int = 8,
    cuts_per_height: float = 3.0,
    split_ratio: float = 0.3,
    max_width_ratio: float = 1.6,
    max_merge_gap: float = 0.25,
    reference_slant: float = 0.3,
    min_piece_area: float = 0.02,
    scale: float = 1.0,
) -> LineLayout:
    """Over-segment one line of writing into atoms and candidate digits.

    ``mask``: bool (H, W), True on ink, already at working scale; ``scale`` is
    working pixels per input pixel, used to report boxes in input pixels.
    ``deskew`` levels a tilted line; ``deslant`` shears slanted writing to
    ``reference_slant`` (dx per dy; the lean :func:`estimate_slant` measures on MNIST
    digits), so that crops look like the training digits and cuts fall between digits.
    Components wider than ``split_ratio`` x line height get up to
    ``cuts_per_height`` cut candidates per line height of width;
    candidates span at most ``max_atoms`` atoms and ``max_width_ratio`` x line
    height, and join atoms of different components only across gaps below
    ``max_merge_gap`` x line height. A piece a cut leaves with less ink than
    ``min_piece_area`` x line height squared is joined to its neighbour.
    """
    return propose_lines(
        mask, deskew=deskew, deslant=deslant, max_atoms=max_atoms, cuts_per_height=cuts_per_height,
        split_ratio=split_ratio, max_width_ratio=max_width_ratio, max_merge_gap=max_merge_gap,
        reference_slant=reference_slant, min_piece_area=min_piece_area, scale=scale, lines=False,
    )[0]


def propose_lines(
    mask: npt.NDArray[np.bool_],
    *,
    deskew: bool = True,
    deslant: bool = True,
    max_atoms: int = 8,
    cuts_per_height: float = 3.0,
    split_ratio: float = 0.3,
    max_width_ratio: float = 1.6,
    max_merge_gap: float = 0.25,
    reference_slant: float = 0.3,
    min_piece_area: float = 0.02,
    scale: float = 1.0,
    lines: bool = True,
) -> tuple[LineLayout, ...]:
    """:func:`propose` for each line of writing in ``mask``, top to bottom (always at least
    one layout, empty when nothing is written). Lines parted by blank rows are cut apart
    first (see :func:`_row_slabs`), and each is levelled by its own tilt. Then, after
    levelling, the writing's digit-tall components (at least half the line height) whose rows
    overlap, directly or through one another, are one line, and each smaller mark joins the
    line nearest it. A line gets its own line height and slant. ``lines=False`` reads all the
    writing as one line (that is :func:`propose`)."""
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    if lines and len(slabs := _row_slabs(mask)) > 1 and one_stroke(mask) is None:
        # Levelling all the ink at once would tilt two lines of unequal length.
        again = functools.partial(
            propose_lines, deskew=deskew, deslant=deslant, max_atoms=max_atoms, cuts_per_height=cuts_per_height,
            split_ratio=split_ratio, max_width_ratio=max_width_ratio, max_merge_gap=max_merge_gap,
            reference_slant=reference_slant, min_piece_area=min_piece_area, scale=scale,
        )
        found_lines = []
        for top, bottom in slabs:
            slab = np.zeros_like(mask)  # the whole frame, so boxes need no shifting
            slab[top:bottom] = mask[top:bottom]
            found_lines += [layout for layout in again(slab) if not layout.empty]
        if found_lines:
            return tuple(found_lines)
    angle, matrix, found = _levelled_writing(mask, deskew=deskew)
    if found is None:
        return (LineLayout(atoms=(), candidates=(), line_height=0.0, angle=angle, scale=scale),)
    labels, stats, keep, line_height = found
    groups = _text_lines(stats, keep, line_height) if lines else [keep]
    if len(groups) > 1 and _stacked_marks(labels, stats, keep) is not None:
        groups = [keep]
    layout = functools.partial(
        _layout, angle, matrix, labels, stats,
        deslant=deslant, max_atoms=max_atoms, cuts_per_height=cuts_per_height, split_ratio=split_ratio,
        max_width_ratio=max_width_ratio, max_merge_gap=max_merge_gap, reference_slant=reference_slant,
        min_piece_area=min_piece_area, scale=scale, source_shape=(mask.shape[0], mask.shape[1]),
    )
    if len(groups) == 1:
        return (layout(keep, line_height),)
    return tuple(layout(group, _writing_height(labels, stats, group)) for group in groups)


#: Blank space between two lines of writing, in line heights, under which they are one line (a
#: pen that skipped leaves a gap of a stroke or two).
LINE_GAP = 0.2
#: Blank space, in the shorter one's heights, under which two stroke-like marks one above the
#: other (see :func:`_halves_of_a_stroke`) are one line: the halves of a lone 1 the pen skipped
#: across, which no other digit beside them holds together.
STROKE_GAP = 0.5


def _halves_of_a_stroke(above: Box, below: Box) -> bool:
    """Whether two marks one above the other (their boxes) look like one stroke the pen
    skipped across: each at most half as wide as it is tall, their columns overlapping, and
    the blank rows between them fewer than :data:`STROKE_GAP` x the shorter one's height. Two
    lines each of one upright 1 look the same; a broken 1 is the likelier."""
    narrow = all(m.width <= 0.5 * m.height for m in (above, below))
    overlap = min(above.right, below.right) > max(above.x, below.x)
    return narrow and overlap and below.y - above.bottom < STROKE_GAP * min(above.height, below.height)


def _row_slabs(
    mask: npt.NDArray[np.bool_], *, min_height: float = 0.5, min_ink: float = 0.1, min_gap: float = LINE_GAP
) -> list[tuple[int, int]]:
    """Row ranges [top, bottom) of a bool (H, W) ink mask that each hold one line of writing,
    split in the middle of the blank rows between lines; one range, all rows, for a single line.
    A run of inked rows is a line when it is at least ``min_height`` as tall as the tallest run
    and holds at least ``min_ink`` of its ink (a line of one digit beside one of seven still
    does): a rule, a dot or a speck above or below is not. Runs parted by fewer blank rows than
    ``min_gap`` x the shorter one's height are one: the halves of a 1 where the pen skipped."""
    rows = mask.sum(axis=1)
    inked = np.flatnonzero(rows)
    if inked.size == 0:
        return [(0, mask.shape[0])]
    breaks = np.flatnonzero(np.diff(inked) > 1)
    runs = [(int(inked[a]), int(inked[b]) + 1) for a, b in zip(np.r_[0, breaks + 1], np.r_[breaks, inked.size - 1])]

    def extent(top: int, bottom: int) -> Box:
        columns = np.flatnonzero(mask[top:bottom].any(axis=0))
        return Box(int(columns[0]), top, int(columns[-1]) + 1 - int(columns[0]), bottom - top)

    joined = [runs[0]]
    for top, bottom in runs[1:]:
        above = joined[-1]
        near = top - above[1] < min_gap * min(above[1] - above[0], bottom - top)
        if near or _halves_of_a_stroke(extent(*above), extent(top, bottom)):
            joined[-1] = (above[0], bottom)
        else:
            joined.append((top, bottom))
    runs = joined
    if len(runs) == 1:
        return [(0, mask.shape[0])]
    heights = np.array([bottom - top for top, bottom in runs])
    ink = np.array([int(rows[top:bottom].sum()) for top, bottom in runs])
    tallest = int(np.argmax(heights))
    lines = [run for run, h, i in zip(runs, heights, ink) if h >= min_height * heights[tallest] and i >= min_ink * ink[tallest]]
    if len(lines) < 2:
        return [(0, mask.shape[0])]
    cuts = [(above[1] + below[0]) // 2 for above, below in itertools.pairwise(lines)]
    return list(zip([0, *cuts], [*cuts, mask.shape[0]]))


def _text_lines(stats: npt.NDArray[np.int32], keep: npt.NDArray[np.bool_], line_height: float) -> list[npt.NDArray[np.bool_]]:
    """The kept components grouped into lines of writing, top to bottom: keep-masks over the
    components (see :func:`propose_lines`); one group, ``keep`` itself, for a single line."""
    tops = stats[:, cv2.CC_STAT_TOP].astype(np.float64)
    bottoms = tops + stats[:, cv2.CC_STAT_HEIGHT]
    tall = np.flatnonzero(keep & (stats[:, cv2.CC_STAT_HEIGHT] >= 0.5 * line_height))
    tall = tall[tall > 0]

    def box(label: int) -> Box:
        return Box(*(int(v) for v in stats[label, :4]))  # left, top, width, height

    bands: list[list[float]] = []
    # Each band's mark while it holds only one: it may be the upper half of a stroke the pen
    # skipped across.
    lone: list[int | None] = []
    for label in tall[np.argsort(tops[tall])]:
        near = bool(bands) and tops[label] < bands[-1][1] + LINE_GAP * line_height
        if near or (bool(lone) and lone[-1] is not None and _halves_of_a_stroke(box(lone[-1]), box(label))):
            bands[-1][1] = max(bands[-1][1], bottoms[label])
            lone[-1] = None
        else:
            bands.append([tops[label], bottoms[label]])
            lone.append(int(label))
    if len(bands) <= 1:
        return [keep]
    centres = np.array([(top + bottom) / 2.0 for top, bottom in bands])
    groups = [np.zeros_like(keep) for _ in bands]
    for label in np.flatnonzero(keep[1:]) + 1:
        inside = [k for k, (top, bottom) in enumerate(bands) if top <= (tops[label] + bottoms[label]) / 2.0 <= bottom]
        k = inside[0] if inside else int(np.argmin(np.abs(centres - (tops[label] + bottoms[label]) / 2.0)))
        groups[k][label] = True
    return groups


def _layout(
    angle: float,
    matrix: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int32],
    stats: npt.NDArray[np.int32],
    keep: npt.NDArray[np.bool_],
    line_height: float,
    *,
    deslant: bool,
    max_atoms: int,
    cuts_per_height: float,
    split_ratio: float,
    max_width_ratio: float,
    max_merge_gap: float,
    reference_slant: float,
    min_piece_area: float,
    scale: float,
    source_shape: tuple[int, int],
) -> LineLayout:
    """The layout of the writing ``keep`` marks among the components of a levelled ink image
    (``labels``, ``stats``; ``matrix`` levelled it): see :func:`propose`."""
    slant = 0.0
    # Shear to the slant of the handwriting the classifier learnt from, not to upright:
    # MNIST digits lean right, and crops sheared upright look less like them. Measured on
    # the writing alone, since box sides and rules would vote for their own angle.
    if deslant:
        written = np.flatnonzero(keep)
        lefts = stats[written, cv2.CC_STAT_LEFT]
        span = int((lefts + stats[written, cv2.CC_STAT_WIDTH]).max() - lefts.min()) if written.size else 0
        # One or two digits (under 2 line heights of writing) lean as they were written,
        # within what MNIST's own digits do, which the classifier has seen: not measured.
        if span >= 2 * line_height:
            writing = np.where(np.isin(labels, written), np.uint8(255), np.uint8(0))
            slant = round(estimate_slant(writing) - reference_slant, 6)
        # Only a clear lean of a hand gets sheared: a line's estimate varies by about 0.1
        # with its digits' own leans, and the models learnt from lines that were rarely sheared.
        if abs(slant) <= 0.35:
            slant = 0.0
        else:
            ink, shear = _sheared(writing, slant)
            matrix = (np.vstack([shear, [0.0, 0.0, 1.0]]) @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
            found = _writing(ink)
            if found is None:
                return LineLayout(atoms=(), candidates=(), line_height=0.0, angle=angle, scale=scale)
            labels, stats, keep, line_height = found
    inverse = cast("npt.NDArray[np.float64]", cv2.invertAffineTransform(matrix))

    kept = [int(label) for label in np.flatnonzero(keep)]
    owns = {}
    for label in kept:
        x, y, w, h, _ = (int(v) for v in stats[label])
        owns[label] = labels[y : y + h, x : x + w] == label
    # Only writing as tall as a digit can hold two of them; a flat dash is never cut.
    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    wide = [label for label in kept if widths[label] > split_ratio * line_height and heights[label] >= 0.5 * line_height]
    limits = [max(1, int(cuts_per_height * int(widths[label]) / line_height)) for label in wide]
    cuts = dict(zip(wide, _cuts([owns[label] for label in wide], line_height, limits)))
    atoms = [
        atom
        for label in kept
        for atom in _pieces(
            label, (int(stats[label, 0]), int(stats[label, 1])), owns[label], cuts.get(label, []),
            min_area=min_piece_area * line_height**2,
        )
    ]
    atoms.sort(key=_reading_order)
    candidates = _candidates(
        atoms, inverse, line_height=line_height, scale=scale, source_shape=source_shape,
        max_atoms=max_atoms, max_width_ratio=max_width_ratio, max_merge_gap=max_merge_gap,
    )
    return LineLayout(
        atoms=tuple(atoms),
        candidates=tuple(candidates),
        line_height=line_height,
        angle=angle,
        scale=scale,
        slant=slant,
        inverse=tuple(inverse.ravel().tolist()),
        source_shape=source_shape,
    )


def widen_candidates(
    layout: LineLayout, *, max_atoms: int, max_width_ratio: float, max_merge_gap: float = 0.25
) -> LineLayout:
    """``layout`` with its candidates drawn again from its atoms under other limits (see
    :func:`propose`): the same atoms, line height and frame, so the candidates within the old
    limits come out as they were. A layout without writing, or built by hand (no ``inverse``),
    is returned as it is."""
    if layout.empty or layout.inverse is None:
        return layout
    inverse = np.array(layout.inverse, np.float64).reshape(2, 3)
    candidates = _candidates(
        list(layout.atoms),
        inverse,
        line_height=layout.line_height,
        scale=layout.scale,
        source_shape=layout.source_shape,
        max_atoms=max_atoms,
        max_width_ratio=max_width_ratio,
        max_merge_gap=max_merge_gap,
    )
    return replace(layout, candidates=tuple(candidates))


def cut_atoms(
    layout: LineLayout,
    columns: Sequence[float],
    *,
    max_atoms: int,
    max_width_ratio: float,
    max_merge_gap: float = 0.25,
    min_piece_area: float = 0.02,
) -> LineLayout:
    """``layout`` with its atoms cut straight down at ``columns`` (x, px in the layout's frame,
    as its atoms' boxes), and its candidates drawn again from them under these limits (see
    :func:`widen_candidates`). Each atom is cut at the columns that fall within it and leave
    pieces of at least ``min_piece_area`` x line height squared of ink on both sides; the
    pieces keep its label. Where a reader of the whole line found more digits than the cuts
    between components and the seams made room for (1s overlapping, their ink one stroke
    wide), it says where to cut. A layout without writing, or built by hand, is returned as
    it is."""
    if layout.empty or layout.inverse is None or not columns:
        return layout
    atoms: list[Atom] = []
    for atom in layout.atoms:
        at = sorted({round(c) - atom.box.x for c in columns if atom.box.x < c < atom.box.right})
        pieces = _pieces(
            atom.label,
            (atom.box.x, atom.box.y),
            atom.mask,
            [np.full(atom.box.height, c, np.int64) for c in at],
            min_area=min_piece_area * layout.line_height**2,
        )
        if len(pieces) < 2:
            atoms.append(atom)
            continue
        # Its own cuts, where a seam made it, stay at its ends.
        pieces[0] = replace(pieces[0], cut_left=atom.cut_left)
        pieces[-1] = replace(pieces[-1], cut_right=atom.cut_right)
        atoms += pieces
    if len(atoms) == len(layout.atoms):
        return layout
    atoms.sort(key=_reading_order)
    cut = replace(layout, atoms=tuple(atoms))
    return widen_candidates(cut, max_atoms=max_atoms, max_width_ratio=max_width_ratio, max_merge_gap=max_merge_gap)


def _pieces(
    label: int, origin: tuple[int, int], own: npt.NDArray[np.bool_], cuts: list[npt.NDArray[np.int64]], *, min_area: float
) -> list[Atom]:
    """The atoms of one component: its mask ``own`` (bool (h, w), top-left at ``origin`` (x, y))
    split along ``cuts`` (per row, the first column right of the cut), left to right; a piece
    of fewer than ``min_area`` ink pixels is joined to its neighbour."""
    x, y = origin
    h, w = own.shape
    seams = [np.zeros(h, np.int64), *cuts, np.full(h, w, np.int64)]
    columns = np.arange(w)[None, :]
    slices = [own & (columns >= lo[:, None]) & (columns < hi[:, None]) for lo, hi in zip(seams[:-1], seams[1:])]
    # Seams from both ends can run a few pixels apart, or beside the ink: a sliver (or nothing)
    # between two cuts is no part of a digit anyone would miss, only more candidates. Such a
    # slice joins the one on its right; the last one, the one on its left. (Cuts never cross,
    # so joined slices are what lies between the cuts that remain.)
    ends, ink = [], 0
    for k, part in enumerate(slices[:-1]):
        ink += int(np.count_nonzero(part))
        if ink >= min_area:
            ends.append(k + 1)
            ink = 0
    if ends and ink + np.count_nonzero(slices[-1]) < min_area:
        ends.pop()
    bounds = [0, *ends, len(slices)]
    atoms = []
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        part = slices[a] if b == a + 1 else np.logical_or.reduce(slices[a:b])
        rows = np.flatnonzero(part.any(axis=1))
        cols = np.flatnonzero(part.any(axis=0))
        if rows.size == 0:
            continue
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        box = Box(x + c0, y + r0, c1 - c0, r1 - r0)
        atoms.append(Atom(label, box, part[r0:r1, c0:c1], cut_left=k > 0, cut_right=k < len(bounds) - 2))
    return atoms


def _candidates(
    atoms: list[Atom],
    inverse: npt.NDArray[np.float64],
    *,
    line_height: float,
    scale: float,
    source_shape: tuple[int, int],
    max_atoms: int,
    max_width_ratio: float,
    max_merge_gap: float,
) -> list[Candidate]:
    """Every run of consecutive atoms that may be one digit (see :func:`propose`), with its box
    mapped back through ``inverse`` into input pixels."""
    extents = _source_extents(atoms, inverse).tolist() if atoms else []
    candidates: list[Candidate] = []
    for start in range(len(atoms)):
        first = atoms[start].box
        left, top, right, bottom = first.x, first.y, first.right, first.bottom
        x0 = y0 = math.inf
        x1 = y1 = -math.inf
        for end in range(start + 1, min(len(atoms), start + max_atoms) + 1):
            atom = atoms[end - 1]
            if end - start > 1 and _gap(atoms[end - 2], atom) > max_merge_gap * line_height:
                break
            left, right = min(left, atom.box.x), max(right, atom.box.right)
            if end - start > 1 and right - left > max_width_ratio * line_height:
                break
            top, bottom = min(top, atom.box.y), max(bottom, atom.box.bottom)
            e = extents[end - 1]
            x0, y0, x1, y1 = min(x0, e[0]), min(y0, e[1]), max(x1, e[2]), max(y1, e[3])
            candidates.append(
                _candidate(atoms[start:end], (x0, y0, x1, y1), start, (left, top, right, bottom), line_height, scale, source_shape)
            )
    return candidates


def _source_extents(atoms: list[Atom], inverse: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(x0, y0, x1, y1) per atom, float (n, 4): the extent of its ink (pixel corners) mapped
    back through deskew and deslant. Mapping the box corners instead would inflate the box of
    a slanted digit. An affine map takes its extremes at each row's first and last ink
    pixels, so those suffice; all atoms are mapped in one product."""
    xs, ys, sizes = [], [], []
    for atom in atoms:
        mask = atom.mask
        rows = np.flatnonzero(mask.any(axis=1))
        first = mask[rows].argmax(axis=1)
        last = mask.shape[1] - 1 - mask[rows, ::-1].argmax(axis=1)
        ys.append(np.concatenate([rows, rows]) + atom.box.y)
        xs.append(np.concatenate([first, last]) + atom.box.x)
        sizes.append(2 * rows.size)
    x = np.concatenate(xs).astype(np.float64)
    y = np.concatenate(ys).astype(np.float64)
    corners = [np.stack([x + dx, y + dy, np.ones_like(x)], axis=1) @ inverse.T for dx in (0.0, 1.0) for dy in (0.0, 1.0)]
    low = np.minimum.reduce(corners)
    high = np.maximum.reduce(corners)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return np.stack(
        [np.minimum.reduceat(low[:, 0], starts), np.minimum.reduceat(low[:, 1], starts),
         np.maximum.reduceat(high[:, 0], starts), np.maximum.reduceat(high[:, 1], starts)],
        axis=1,
    )


def _candidate(
    run: list[Atom],
    extent: tuple[float, float, float, float],
    start: int,
    bounds: tuple[int, int, int, int],
    line_height: float,
    scale: float,
    source_shape: tuple[int, int],
) -> Candidate:
    """The candidate made of atoms ``run`` (from index ``start``): ``extent``, their mapped
    ink extent combined (:func:`_source_extents`); ``bounds``, their boxes' (left, top,
    right, bottom) in the working frame."""
    left, top, right, bottom = bounds
    crop = np.zeros((bottom - top, right - left), np.uint8)
    for t in run:
        window = crop[t.box.y - top : t.box.bottom - top, t.box.x - left : t.box.right - left]
        window[t.mask] = 255
    h, w = source_shape[0] / scale, source_shape[1] / scale
    x0 = max(0.0, extent[0] / scale)
    y0 = max(0.0, extent[1] / scale)
    x1 = min(w, extent[2] / scale)
    y1 = min(h, extent[3] / scale)
    box = Box(int(math.floor(x0)), int(math.floor(y0)), max(1, int(math.ceil(x1 - x0))), max(1, int(math.ceil(y1 - y0))))
    return Candidate(
        start=start, end=start + len(run), crop=crop, box=box, prior=_prior(run, right - left, bottom - top, line_height)
    )


def _prior(run: list[Atom], width: int, height: int, line_height: float) -> float:
    """Geometric log-plausibility that a run of atoms is one digit (0 best)."""
    penalty = 0.0
    # Using a cut costs a little: split only where the classifier says so.
    penalty += 0.5 * (run[0].cut_left + run[-1].cut_right)
    for a, b in zip(run[:-1], run[1:]):
        if a.label == b.label:
            continue  # re-joining the pieces of one component is free
        narrow = min(a.box.width, b.box.width)
        overlap = -_gap(a, b)
        small = min(a.box.height, b.box.height) < 0.6 * line_height
        if overlap >= 0.5 * narrow or small:
            continue  # a broken stroke or a detached bar
        penalty += 1.5
    if height < 0.4 * line_height:
        penalty += 2.0  # a dash or a dot is no digit
    if height < 0.7 * line_height:
        penalty += 8.0 * (0.7 - height / line_height)  # digits of one line are of a size
    if width > 1.2 * line_height:
        penalty += 3.0 * (width / line_height - 1.2)
    return -penalty
