"""Synthetic lines of handwritten digits, composed from MNIST digits, with ground truth.

Each line comes with its text and every digit's true box, so tests and
evaluations can check segmentation as well as reading. Compose only MNIST
*test* digits when the classifier under evaluation was trained on MNIST train.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar, cast

import cv2
import numpy as np
import numpy.typing as npt

from segmentation.types import Box

__all__ = ["GAP_KINDS", "MIXED_GAPS", "SEPARATORS", "Gap", "LineGenerator", "SynthConfig", "SyntheticLine", "render_line", "weighted_choice"]

Gap = Literal["wide", "separated", "kissing", "touching", "overlapping", "mixed"]
GAP_KINDS: tuple[Gap, ...] = ("wide", "separated", "kissing", "touching", "overlapping", "mixed")
#: Gap of each neighbouring pair in a "mixed" line, and its probability: as people write.
MIXED_GAPS: tuple[tuple[Gap, float], ...] = (("separated", 0.4), ("kissing", 0.2), ("touching", 0.4))

T = TypeVar("T")


def weighted_choice(rng: np.random.Generator, table: Sequence[tuple[T, float]]) -> T:
    """One item of ``table`` ((item, share) pairs), drawn with probability proportional to its share."""
    items, shares = zip(*table)
    return items[int(rng.choice(len(items), p=np.asarray(shares) / sum(shares)))]


@dataclass(frozen=True, slots=True)
class SynthConfig:
    """How a synthetic line looks. Ranges are (low, high), sampled uniformly per line or digit."""

    gap: Gap = "separated"
    """wide: 0.3-0.6 digit heights; separated: 0.08-0.25; kissing: boxes touch, ink does not;
    touching: ink of neighbours joins; overlapping: boxes overlap by 10-35 % of the narrower digit;
    mixed: each pair drawn from ``MIXED_GAPS`` (separated, kissing or touching)."""
    height: tuple[int, int] = (40, 60)
    """Digit height in pixels (per line)."""
    size_jitter: float = 0.1
    """Relative per-digit height variation."""
    baseline_jitter: float = 0.06
    """Per-digit vertical offset, in digit heights."""
    slant: tuple[float, float] = (-0.25, 0.25)
    """Horizontal shear of the writing (per line), dx/dy."""
    stroke: tuple[int, int] = (0, 0)
    """Pen-width change in pixels (negative thins, positive thickens), per line."""
    rotation: tuple[float, float] = (0.0, 0.0)
    """Tilt of the whole line in degrees, counter-clockwise positive."""
    dark_on_light: bool | None = True
    """Polarity; None picks at random per line."""
    paper: tuple[int, int] = (215, 250)
    ink: tuple[int, int] = (10, 60)
    blur: tuple[float, float] = (0.0, 0.0)
    """Gaussian blur sigma in pixels."""
    noise: tuple[float, float] = (0.0, 0.0)
    """Gaussian noise standard deviation in gray levels."""
    margin: tuple[float, float] = (0.3, 0.8)
    """Blank margin around the line, in digit heights."""
    breaks: float = 0.0
    """Probability that a digit's stroke is broken (a pen that skipped), per digit."""
    furniture: float = 0.0
    """Probability that the line comes with form furniture: the field's box, the rule it is
    written on, or a stray dot. Drawn before the tilt, so it tilts with the writing."""


@dataclass(frozen=True, slots=True)
class SyntheticLine:
    """``image``: uint8 (H, W) gray; ``text``: the digits, with any separators written between
    them ("94110-1234"); ``boxes``: each digit's tight ink box, in order (separators have none)."""

    image: npt.NDArray[np.uint8]
    text: str
    boxes: tuple[Box, ...]


def _u(rng: np.random.Generator, pair: tuple[float, float]) -> float:
    return float(rng.uniform(pair[0], pair[1])) if pair[1] > pair[0] else float(pair[0])


def _tight(image: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    rows = np.flatnonzero(image.max(axis=1) > 0.1)
    cols = np.flatnonzero(image.max(axis=0) > 0.1)
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _render_digit(
    digit: npt.NDArray[np.uint8], height: int, slant: float, stroke: int
) -> npt.NDArray[np.float32]:
    """One MNIST digit as ink coverage in [0, 1], ``height`` px tall, slanted, pen adjusted."""
    source = _tight(digit.astype(np.float32) / 255.0)
    factor = height / source.shape[0]
    size = (max(1, round(source.shape[1] * factor)), height)
    ink = cv2.resize(source, size, interpolation=cv2.INTER_CUBIC)
    pad = int(abs(slant) * height) + abs(stroke) + 2
    ink = cv2.copyMakeBorder(ink, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0.0)
    h, w = ink.shape
    shear = np.array([[1.0, -slant, slant * h / 2.0], [0.0, 1.0, 0.0]])
    ink = cv2.warpAffine(ink, shear, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
    if stroke:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(stroke) + 1, 2 * abs(stroke) + 1))
        ink = cv2.dilate(ink, kernel) if stroke > 0 else cv2.erode(ink, kernel)
    ink = cast("npt.NDArray[np.float32]", np.clip(ink, 0.0, 1.0))
    return _tight(ink) if ink.max() > 0.1 else ink


def _break_stroke(ink: npt.NDArray[np.float32], rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Erase a thin band across the stroke, away from the digit's ends."""
    ys, xs = np.nonzero(ink > 0.5)
    if ys.size == 0:
        return ink
    i = int(rng.integers(ys.size))
    angle = rng.uniform(0, np.pi)
    length = ink.shape[0] * 0.2
    dx, dy = length * np.cos(angle), length * np.sin(angle)
    out = ink.copy()
    thickness = max(2, ink.shape[0] // 16)
    cv2.line(out, (int(xs[i] - dx), int(ys[i] - dy)), (int(xs[i] + dx), int(ys[i] + dy)), 0.0, thickness)
    return out


def _furniture(coverage: npt.NDArray[np.float32], masks: list[npt.NDArray[np.uint8]], base: int, rng: np.random.Generator) -> None:
    """Draw a field's box, a rule under the digits, or a stray dot into ``coverage`` (in place)."""
    h, w = coverage.shape
    ys, xs = np.nonzero(np.maximum.reduce(masks))
    top, bottom, left, right = int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())
    marks = np.zeros((h, w), np.uint8)
    thickness = int(rng.integers(1, 4))
    kind = int(rng.integers(3))
    if kind == 0:
        m = max(3, int(rng.uniform(0.15, 0.35) * base))
        cv2.rectangle(marks, (max(0, left - 2 * m), max(0, top - m)), (min(w - 1, right + 2 * m), min(h - 1, bottom + m)), 255, thickness)
    elif kind == 1:
        y = min(h - 1, bottom + int(rng.integers(1, 6)))
        cv2.line(marks, (max(0, left - base // 3), y), (min(w - 1, right + base // 3), y), 255, thickness)
    else:
        cv2.circle(marks, (int(rng.integers(0, w)), int(rng.integers(0, max(1, top)))), max(1, base // 25), 255, -1)
    np.maximum(coverage, marks.astype(np.float32) / 255.0 * float(rng.uniform(0.6, 1.0)), out=coverage)


#: Separator characters a line can be written with: a hyphen, or a space between digit groups.
SEPARATORS = ("-", " ")


def _hyphen(base: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """A handwritten hyphen as ink coverage: 0.25-0.45 digit heights long, about an MNIST
    stroke thick, a little off level."""
    length = max(4, int(rng.uniform(0.25, 0.45) * base))
    thickness = max(2, round(rng.uniform(0.08, 0.14) * base))
    rise = round(np.tan(np.radians(rng.uniform(-8.0, 8.0))) * length)
    pad = thickness + 1
    ink = np.zeros((abs(rise) + 2 * pad + 1, length + 2 * pad), np.float32)
    y0 = pad + max(0, rise)
    cv2.line(ink, (pad, y0), (pad + length - 1, y0 - rise), 1.0, thickness, cv2.LINE_AA)
    return _tight(ink)


def _touch_offset(left: npt.NDArray[np.float32], right: npt.NDArray[np.float32], dy: int) -> int:
    """Smallest x offset of ``right``'s origin, relative to ``left``'s right edge, at which their inks meet."""
    best = None
    for r in range(right.shape[0]):
        row_l = r + dy
        if not 0 <= row_l < left.shape[0]:
            continue
        lx = np.flatnonzero(left[row_l] > 0.5)
        rx = np.flatnonzero(right[r] > 0.5)
        if lx.size and rx.size:
            # offset so that right's leftmost ink lands on left's rightmost ink
            off = int(lx[-1]) - left.shape[1] - int(rx[0]) + 1
            best = off if best is None else max(best, off)
    return best if best is not None else -2


def render_line(
    digits: list[npt.NDArray[np.uint8]],
    labels: list[int],
    rng: np.random.Generator,
    config: SynthConfig = SynthConfig(),
    *,
    separators: dict[int, str] | None = None,
) -> SyntheticLine:
    """Compose 28x28 MNIST ``digits`` (with their ``labels``) into one line, as ``config`` says.

    ``separators``: digit index i (0 < i < len(digits)) -> "-" or " ": a hyphen drawn at
    mid-height, or a space of 0.6-1.0 digit heights, before digit i. Without them the line
    is drawn from ``rng`` exactly as before separators existed."""
    if len(digits) != len(labels):
        raise ValueError("one label per digit")
    separators = separators or {}
    if any(not 0 < i < len(digits) or ch not in SEPARATORS for i, ch in separators.items()):
        raise ValueError(f"separators go between digits and are '-' or ' ', got {separators!r}")
    base = int(round(_u(rng, (float(config.height[0]), float(config.height[1])))))
    slant = _u(rng, config.slant)
    stroke = int(round(_u(rng, (float(config.stroke[0]), float(config.stroke[1])))))
    inks = [
        _render_digit(d, max(8, int(base * (1 + rng.uniform(-config.size_jitter, config.size_jitter)))), slant, stroke)
        for d in digits
    ]
    inks = [_break_stroke(ink, rng) if rng.random() < config.breaks else ink for ink in inks]
    offsets_y = [int(rng.uniform(-config.baseline_jitter, config.baseline_jitter) * base) for _ in inks]
    # Bottom-align on a common baseline, then jitter.
    tops = [base - ink.shape[0] + oy for ink, oy in zip(inks, offsets_y)]
    xs: list[int] = []
    dashes: list[tuple[int, int, npt.NDArray[np.float32]]] = []  # (x, top, ink) of each hyphen
    x = 0
    for i, ink in enumerate(inks):
        if i in separators:
            prev = inks[i - 1]
            if separators[i] == "-":
                dash = _hyphen(base, rng)
                dash_x = xs[-1] + prev.shape[1] + int(rng.uniform(0.1, 0.3) * base)
                middle = rng.uniform(0.45, 0.6) * base  # a hyphen sits at mid-height, a little low
                dashes.append((dash_x, int(middle - dash.shape[0] / 2.0), dash))
                x = dash_x + dash.shape[1] + int(rng.uniform(0.1, 0.3) * base)
            else:
                x = xs[-1] + prev.shape[1] + int(rng.uniform(0.6, 1.0) * base)
        elif i > 0:
            prev = inks[i - 1]
            kind = config.gap
            if kind == "mixed":
                kind = weighted_choice(rng, MIXED_GAPS)
            if kind == "wide":
                gap = int(rng.uniform(0.3, 0.6) * base)
            elif kind == "separated":
                gap = int(rng.uniform(0.08, 0.25) * base)
            elif kind == "kissing":
                gap = max(0, _touch_offset(prev, ink, tops[i] - tops[i - 1]) + 2, 0)
            elif kind == "touching":
                gap = _touch_offset(prev, ink, tops[i] - tops[i - 1]) - int(rng.integers(0, 2))
            else:  # overlapping
                narrow = min(prev.shape[1], ink.shape[1])
                gap = -int(rng.uniform(0.1, 0.35) * narrow)
                gap = min(gap, _touch_offset(prev, ink, tops[i] - tops[i - 1]) - 1)
            x = xs[-1] + prev.shape[1] + gap
        xs.append(x)

    margin = int(_u(rng, config.margin) * base) + 2
    left = min(xs)
    top = min(tops + [t for _, t, _ in dashes])
    width = max(x + ink.shape[1] for x, ink in zip(xs, inks)) - left + 2 * margin
    height = max(t + ink.shape[0] for t, ink in zip(tops, inks)) - top + 2 * margin
    coverage = np.zeros((height, width), np.float32)
    for x, t, dash in dashes:
        region = coverage[t - top + margin : t - top + margin + dash.shape[0], x - left + margin : x - left + margin + dash.shape[1]]
        np.maximum(region, dash, out=region)
    masks: list[npt.NDArray[np.uint8]] = []
    for x, t, ink in zip(xs, tops, inks):
        r, c = t - top + margin, x - left + margin
        region = coverage[r : r + ink.shape[0], c : c + ink.shape[1]]
        np.maximum(region, ink, out=region)
        mask = np.zeros((height, width), np.uint8)
        mask[r : r + ink.shape[0], c : c + ink.shape[1]] = (ink > 0.5).astype(np.uint8)
        masks.append(mask)

    if rng.random() < config.furniture:
        _furniture(coverage, masks, base, rng)

    angle = _u(rng, config.rotation)
    if angle:
        centre = (width / 2.0, height / 2.0)
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
        new_w, new_h = int(np.ceil(height * sin + width * cos)), int(np.ceil(height * cos + width * sin))
        matrix[0, 2] += new_w / 2.0 - centre[0]
        matrix[1, 2] += new_h / 2.0 - centre[1]
        coverage = cv2.warpAffine(coverage, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=0.0)
        turned = [cv2.warpAffine(m, matrix, (new_w, new_h), flags=cv2.INTER_NEAREST, borderValue=0) for m in masks]
        masks = [cast("npt.NDArray[np.uint8]", m) for m in turned]

    boxes = []
    for mask in masks:
        x, y, w, h = cv2.boundingRect(mask)
        boxes.append(Box(int(x), int(y), int(w), int(h)))

    paper = _u(rng, (float(config.paper[0]), float(config.paper[1])))
    ink_level = _u(rng, (float(config.ink[0]), float(config.ink[1])))
    # float32, as coverage is (numpy's stubs would infer float64)
    image: npt.NDArray[np.floating[Any]] = paper - (paper - ink_level) * coverage
    sigma = _u(rng, config.blur)
    if sigma > 0:
        image = cast("npt.NDArray[np.floating[Any]]", cv2.GaussianBlur(image, (0, 0), sigma))
    noise = _u(rng, config.noise)
    if noise > 0:
        image = image + rng.normal(0.0, noise, image.shape)
    dark = config.dark_on_light if config.dark_on_light is not None else bool(rng.random() < 0.5)
    if not dark:
        image = 255.0 - image
    out = np.clip(np.round(image), 0, 255).astype(np.uint8)
    text = "".join(separators.get(i, "") + str(int(v)) for i, v in enumerate(labels))
    return SyntheticLine(image=out, text=text, boxes=tuple(boxes))


class LineGenerator:
    """Draws random lines from a pool of MNIST digits, reproducibly from ``seed``.

    ``images``: uint8 (N, 28, 28); ``labels``: (N,) ints.
    """

    def __init__(
        self,
        images: npt.NDArray[np.uint8],
        labels: npt.NDArray[np.integer],
        *,
        config: SynthConfig = SynthConfig(),
        seed: int = 0,
    ) -> None:
        if len(images) != len(labels) or len(images) == 0:
            raise ValueError("need one label per image, and at least one image")
        self.images = images
        self.labels = np.asarray(labels, dtype=np.int64)
        self.config = config
        self.rng = np.random.default_rng(seed)
        self._by_digit = {d: np.flatnonzero(self.labels == d) for d in range(10)}

    def line(self, text: str | None = None, *, length: int = 5, **overrides: object) -> SyntheticLine:
        """One line spelling ``text`` (random digits of ``length`` when None); ``overrides`` replace
        config fields. ``text`` may hold a hyphen or a space between digits ("94110-1234"), drawn
        as such (see :func:`render_line`)."""
        config = replace(self.config, **overrides) if overrides else self.config  # type: ignore[arg-type]
        if text is None:
            text = "".join(str(int(d)) for d in self.rng.integers(0, 10, length))
        separators: dict[int, str] = {}
        digits = ""
        for ch in text:
            if ch in SEPARATORS:
                if len(digits) in separators:
                    raise ValueError(f"one separator between two digits, got {text!r}")
                separators[len(digits)] = ch
            else:
                digits += ch
        picks = []
        for ch in digits:
            pool = self._by_digit.get(int(ch))
            if pool is None or pool.size == 0:
                raise ValueError(f"no image of digit {ch!r} in the pool")
            picks.append(int(pool[self.rng.integers(pool.size)]))
        return render_line([self.images[i] for i in picks], [int(self.labels[i]) for i in picks], self.rng, config, separators=separators)
