"""Shared fixtures. MNIST comes from $SEQDIGITS_DATA or ../shared/data/mnist (never the network)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from datasets.mnist import MnistError, MnistSplit, load_mnist
from datasets.synth import LineGenerator, SynthConfig, SyntheticLine

ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    env = os.environ.get("SEQDIGITS_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_test() -> MnistSplit:
    try:
        return load_mnist("test", _data_dir())
    except MnistError as exc:
        if os.environ.get("SEQDIGITS_REQUIRE_DATA") == "1":
            raise
        pytest.skip(f"MNIST not available: {exc}")


@pytest.fixture(scope="session")
def mnist_dir(mnist_test: MnistSplit) -> Path:
    """The MNIST directory the tests read (skips as ``mnist_test`` does where it is missing)."""
    return _data_dir()


@pytest.fixture(scope="session")
def recognizer():  # type: ignore[no-untyped-def]
    from seqdigits import load_recognizer

    return load_recognizer()


@pytest.fixture(scope="session")
def cnn_recognizer():  # type: ignore[no-untyped-def]
    """A recognizer without the line model: the digit CNN's best path alone."""
    from seqdigits import load_recognizer

    return load_recognizer(line_model=False)


@pytest.fixture()
def lines(mnist_test: MnistSplit) -> LineGenerator:
    return LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(), seed=1234)


def png_bytes(image: np.ndarray, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, **params)
    return buffer.getvalue()


def boxed_lines(split: MnistSplit) -> LineGenerator:
    """Lines of touching digits 44-48 px tall with little margin, for :func:`in_a_tilted_box`."""
    config = SynthConfig(gap="touching", height=(44, 48), margin=(0.2, 0.2))
    return LineGenerator(split.images, split.labels, config=config, seed=21)


def in_a_tilted_box(line: np.ndarray, angle: float) -> np.ndarray:
    """A gray line of writing (dark on light) in a printed box 10 px outside a margin that makes
    the line's area 1.6 times as wide as tall (the box about 1.5 times), photographed turned by
    ``angle`` degrees."""
    h, w = line.shape
    tall = int(w / 1.6)
    page = np.full((tall + 60, w + 60), 235, np.uint8)
    top = 30 + (tall - h) // 2
    page[top : top + h, 30 : 30 + w] = line
    cv2.rectangle(page, (20, 20), (w + 40, tall + 40), 40, 4)
    turn = cv2.getRotationMatrix2D((page.shape[1] / 2, page.shape[0] / 2), angle, 1.0)
    return cv2.warpAffine(page, turn, (page.shape[1], page.shape[0]), borderValue=235)


def broken_stroke(height: int, *, cut: float, slant: int) -> tuple[np.ndarray, tuple[int, int]]:
    """A lone 1 (dark on light, uint8 (2h, 2h)), ``height`` px tall, leaning ``slant`` px, that the
    pen skipped across ``cut`` of the way down (blank rows a twelfth of its height), and the
    rows [top, bottom) its ink spans."""
    image = np.full((2 * height, 2 * height), 240, np.uint8)
    x = height + slant // 2
    pen = max(2, height // 8)
    cv2.line(image, (x, height // 2), (x - slant, height // 2 + height), 20, pen)
    y = height // 2 + int(cut * height)
    image[y : y + max(2, height // 12)] = 240
    rows = np.flatnonzero((image < 128).any(axis=1))
    return image, (int(rows[0]), int(rows[-1]) + 1)


def broken_eight(size: int, *, gap: int, lean: int) -> tuple[np.ndarray, tuple[int, int]]:
    """A lone 8 (dark on light, uint8 (3s, 3s)) about ``size`` px tall, drawn as two rings that
    ``gap`` blank rows part at the waist (the upper one shifted ``lean`` px right), and the rows
    [top, bottom) its ink spans."""
    image = np.full((3 * size, 3 * size), 240, np.uint8)
    a, b, pen = int(0.3 * size), size // 4, max(2, size // 10)
    x, y = int(1.5 * size), size
    cv2.ellipse(image, (x + lean, y), (a, b), 0, 0, 360, 20, pen)
    cv2.ellipse(image, (x, y + 2 * b + pen + gap), (int(1.15 * a), b), 0, 0, 360, 20, pen)
    rows = np.flatnonzero((image < 128).any(axis=1))
    return image, (int(rows[0]), int(rows[-1]) + 1)


def broken_digits() -> list[tuple[str, np.ndarray, tuple[int, int]]]:
    """Lone digits a skipping pen left in pieces one over the other, each set its line's height by
    a piece before (the digit, the image, the rows [top, bottom) its ink spans): 1s cut near one
    end, whose short piece is wider than half its height (:func:`broken_stroke`; height, cut,
    slant), and 8s parted at the waist (:func:`broken_eight`; size, gap, lean)."""
    ones = [(24, 0.3, 0), (24, 0.7, 6), (32, 0.7, 8), (48, 0.2, 0), (48, 0.7, 12), (64, 0.3, 16), (64, 0.8, 0)]
    eights = [(24, 3, 3), (48, 2, 0), (48, 3, 3), (64, 2, 3), (64, 3, 0)]
    return [("1", *broken_stroke(h, cut=c, slant=s)) for h, c, s in ones] + [
        ("8", *broken_eight(z, gap=g, lean=n)) for z, g, n in eights
    ]


#: Where :func:`on_a_big_page` puts a line: its top left corner (row, column) on the page.
PAGE_CORNER = (650, 700)


def on_a_big_page(
    line: np.ndarray,
    rng: np.random.Generator,
    *,
    factor: float = 0.7,
    shade: float = 0.0,
    noise: float = 1.0,
    size: tuple[int, int] = (1400, 1600),
) -> tuple[np.ndarray, np.ndarray]:
    """``line`` (uint8 (H, W), dark ink) shrunk to ``factor`` and laid at :data:`PAGE_CORNER` on
    a page of ``size`` (height, width) px, dimmed to 0.8, darkened from right to left by up to
    ``shade`` gray levels (a shadow's gradient), with a little noise (std ``noise``): at 0.7 on
    the 1 400 x 1 600 page its ink is about 0.1 % of it, as a number small in a phone photo.
    Returns the page and the shrunk line."""
    small = cv2.resize(line, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    page = np.full(size, 255, np.uint8)
    top, left = PAGE_CORNER
    page[top : top + small.shape[0], left : left + small.shape[1]] = small
    ramp = np.linspace(shade, 0.0, page.shape[1])[None, :]
    return np.clip(page * 0.8 - ramp + rng.normal(0, noise, page.shape), 0, 255).astype(np.uint8), small


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


def soft_marks(depth: float, seed: int) -> list[tuple[str, float, np.ndarray]]:
    """Blank pages (300 x 800, paper at 230) with a soft mark ``depth`` gray levels deep (a stain,
    a smaller one, a fold, a shaded corner), each clean, with pixel noise and as JPEGs: (the
    mark's name, the noise's std, the page)."""
    ys, xs = np.mgrid[0:300, 0:800].astype(np.float64)
    marks = {
        "stain": np.exp(-(((xs - 500) / 60) ** 2 + ((ys - 150) / 40) ** 2)),
        "small stain": np.exp(-(((xs - 300) / 25) ** 2 + ((ys - 120) / 25) ** 2)),
        "fold": np.exp(-(((xs - 400) / 6) ** 2)),
        "shaded corner": np.clip(1 - np.hypot(xs, ys) / 250, 0, 1),
    }
    rng = np.random.default_rng(seed)
    pages = []
    for name, mark in marks.items():
        for noise, quality in ((0.0, 95), (1.0, 90), (2.0, 60), (0.0, 30)):
            page = np.clip(230 - depth * mark + rng.normal(0, noise, mark.shape), 0, 255).astype(np.uint8)
            encoded = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
            pages.append((name, noise, cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)))
    return pages


def smudged(
    line: np.ndarray, depth: float, rng: np.random.Generator, *, where: str = "below", noise: float = 1.0
) -> np.ndarray:
    """A generated line (uint8, dark ink on light paper) with as much paper again added
    ``below`` it or to its ``right``, and there a soft smudge (a Gaussian blot about a digit's
    height across, its centre ``depth`` gray levels darker), with pixel noise of std ``noise``."""
    height, width = line.shape
    paper = float(np.median(line))
    grow = (height, 0) if where == "below" else (0, height)
    page = np.pad(line.astype(np.float64), ((0, grow[0]), (0, grow[1])), constant_values=paper)
    ys, xs = np.mgrid[0 : page.shape[0], 0 : page.shape[1]].astype(np.float64)
    cy, cx = (1.5 * height, rng.uniform(0.2, 0.8) * width) if where == "below" else (0.5 * height, width + 0.5 * height)
    sigma = height * rng.uniform(0.2, 0.3)
    blot = np.exp(-(((xs - cx) / (1.2 * sigma)) ** 2 + ((ys - cy) / sigma) ** 2))
    return np.clip(np.round(page - depth * blot + rng.normal(0, noise, page.shape)), 0, 255).astype(np.uint8)


def faded(
    line: np.ndarray, contrast: float, rng: np.random.Generator, *, shadow: float = 0.0, noise: float = 1.0
) -> np.ndarray:
    """A generated line (uint8, dark ink) as pale writing: its ink ``contrast`` gray levels under
    paper at 235, under a shadow darkening the page by up to ``shadow`` levels from left to right,
    with pixel noise of std ``noise``."""
    paper = float(np.median(line))
    ink = (paper - line.astype(np.float64)) / max(paper - float(line.min()), 1.0)
    shade = np.linspace(0, shadow, line.shape[1])[None, :]
    return np.clip(np.round(235 - shade - contrast * ink + rng.normal(0, noise, line.shape)), 0, 255).astype(np.uint8)


PAGE_LINES = ("fold", "margin", "edge", "through", "crossed")


def with_page_line(
    line: np.ndarray, kind: str, rng: np.random.Generator, *, pad: float = 1.0, noise: float = 1.0
) -> np.ndarray:
    """A generated line (uint8, dark ink on light paper) with ``pad`` times its height of paper
    added above and below it, and a straight line down the whole page, leaning up to 0.15 px a
    row: a ``"fold"`` (soft, 4-8 px, 30-90 levels deep) or a ``"margin"`` line (sharp, 2-4 px,
    80-160 deep) 3-15 px from either side, the ``"edge"`` of the paper there (the table beyond
    it 60-160 levels darker), a fold ``"through"`` the writing (20-80 % of the way across), or
    two folds ``"crossed"`` 6-12 px from either side (an X: leaning 0.04-0.1 px a row, each its own
    way, they cross level with the writing's middle row). Pixel noise of std ``noise``."""
    width = line.shape[1]
    page, _ = _on_a_taller_page(line, pad)
    ys, xs = np.mgrid[0 : page.shape[0], 0:width].astype(np.float64)
    left = bool(rng.integers(2))
    x0 = rng.uniform(3, 15) if left else rng.uniform(width - 15, width - 3)
    if kind == "through":
        x0 = rng.uniform(0.2, 0.8) * width
    if kind == "crossed":
        x0 = rng.uniform(6, 12) if left else rng.uniform(width - 12, width - 6)
        leans = rng.uniform(0.04, 0.1) * np.array([1.0, -1.0])
        crossed = [_fold(xs - (x0 + lean * (ys - page.shape[0] / 2)), rng) for lean in leans]
        return _darkened(page, np.maximum(*crossed), rng, noise)
    x = xs - (x0 + rng.uniform(-0.15, 0.15) * (ys - page.shape[0] / 2))
    if kind in ("fold", "through"):
        mark = _fold(x, rng)
    elif kind == "margin":
        mark = _printed_line(x, rng)
    elif kind == "edge":
        mark = rng.uniform(60, 160) * ((x < 0) if left else (x > 0))
    else:
        raise ValueError(f"unknown page line {kind!r}")
    return _darkened(page, mark, rng, noise)


def with_fold_across(
    line: SyntheticLine, rng: np.random.Generator, *, pad: float = 0.5, noise: float = 1.0
) -> np.ndarray:
    """A generated line (dark ink on light paper) with ``pad`` times its height of paper added
    above and below it, and a soft fold across the whole page (a trough 4-8 px wide, 30-90
    levels deep, leaning up to 0.02 px a column) through the writing, 30-70 % of the way down
    its digits' boxes. Pixel noise of std ``noise``."""
    width = line.image.shape[1]
    page, grow = _on_a_taller_page(line.image, pad)
    top, bottom = min(b.y for b in line.boxes) + grow, max(b.bottom for b in line.boxes) + grow
    ys, xs = np.mgrid[0 : page.shape[0], 0:width].astype(np.float64)
    y0 = top + rng.uniform(0.3, 0.7) * (bottom - top) + rng.uniform(-0.02, 0.02) * (xs - width / 2)
    return _darkened(page, _fold(ys - y0, rng), rng, noise)


def _on_a_taller_page(image: np.ndarray, pad: float) -> tuple[np.ndarray, int]:
    """``image`` (uint8 (H, W)) as float64 with ``pad`` times its height of its paper (its
    median level) added above and below it, and the rows added each way."""
    grow = int(pad * image.shape[0])
    return np.pad(image.astype(np.float64), ((grow, grow), (0, 0)), constant_values=float(np.median(image))), grow


def _fold(off: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft fold's darkening (levels), 30-90 deep, a trough 4-8 px wide, ``off`` px from its middle."""
    return rng.uniform(30, 90) * np.exp(-((off / rng.uniform(4, 8)) ** 2))


def _printed_line(off: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sharp printed line's darkening (levels), 80-160 deep, 2-4 px wide, ``off`` px from its middle."""
    return rng.uniform(80, 160) * (np.abs(off) <= rng.uniform(1, 2))


def _darkened(page: np.ndarray, mark: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """``page`` (float64) darkened by ``mark`` (levels), with pixel noise of std ``noise``, as uint8."""
    return np.clip(np.round(page - mark + rng.normal(0, noise, page.shape)), 0, 255).astype(np.uint8)


#: Blank pages, (height, width) px: a field photographed close, a wide strip, a page.
BLANK_PAGES = ((185, 349), (300, 800), (600, 450))


def lines_on_a_blank_page(lines: tuple[str, ...], rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A blank page (``size``: height, width; paper 180-240, pixel noise of std 2) with straight
    ``lines`` from edge to edge, each ``"fold"`` (down the page: a soft trough 4-8 px wide, 30-90
    levels deep, leaning up to 0.15 px a row) or ``"rule"`` (sharp, 2-4 px, 80-160 deep), or the
    same ``"... across"`` the page (leaning up to 0.02 px a column), at 10-90 % of the way."""
    height, width = size
    paper = rng.uniform(180, 240)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    marks = np.zeros(size)
    for kind in lines:
        if kind.endswith(" across"):
            off = ys - (rng.uniform(0.1, 0.9) * height + rng.uniform(-0.02, 0.02) * (xs - width / 2))
        else:
            off = xs - (rng.uniform(0.1, 0.9) * width + rng.uniform(-0.15, 0.15) * (ys - height / 2))
        if kind.startswith("fold"):
            mark = _fold(off, rng)
        elif kind.startswith("rule"):
            mark = _printed_line(off, rng)
        else:
            raise ValueError(f"unknown line {kind!r}")
        marks = np.maximum(marks, mark)  # (where two cross, the deeper)
    return _darkened(np.full(size, paper), marks, rng, 2.0)


def ones_off_the_canvas() -> list[np.ndarray]:
    """A 1 drawn past both edges of a 200 x 400 canvas (a 10 px pen), upright and leaning, alone
    and with a dot beside it."""
    canvases = []
    for dot in (False, True):
        for lean in (0, 12):
            canvas = np.full((200, 400), 255, np.uint8)
            cv2.line(canvas, (200 - lean, -5), (200 + lean, 205), 0, 10)
            if dot:
                cv2.circle(canvas, (300, 100), 8, 0, -1)
            canvases.append(canvas)
    return canvases


def pages_with_a_line(split: MnistSplit, kind: str) -> list[tuple[str, np.ndarray, np.ndarray, int]]:
    """Eight separated lines of ``split``'s digits, each on a page three times as tall with a
    line of ``kind`` down it (:func:`with_page_line`): (text, page, the page without the line,
    rows of paper added above and below)."""
    gen = LineGenerator(split.images, split.labels, config=SynthConfig(gap="separated"), seed=47)
    rng = np.random.default_rng(47)
    out = []
    for text in ("90210", "31337", "64508", "72196", "15073", "48226", "10101", "55914"):
        line = gen.line(text).image
        page = with_page_line(line, kind, rng)
        grow = (page.shape[0] - line.shape[0]) // 2
        out.append((text, page, np.pad(line, ((grow, grow), (0, 0)), constant_values=int(np.median(line))), grow))
    return out
