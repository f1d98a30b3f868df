from __future__ import annotations

import importlib

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from datasets.photo import photograph
from datasets.synth import LineGenerator, SynthConfig
from segmentation import binarize, faint_grid, ink_is_dark, is_blank, writing_region
from segmentation.binarize import MIN_CONTRAST, MIN_FAINT, PAPER_MARGIN, SOFT_MIN_AREA
from tests.conftest import (
    BLANK_PAGES,
    PAGE_CORNER,
    faded,
    lines_on_a_blank_page,
    on_a_big_page,
    ones_off_the_canvas,
    pages_with_a_line,
    smudged,
    soft_marks,
)


def _page(dark_ink: bool = True, gradient: bool = False) -> tuple[np.ndarray, np.ndarray]:
    truth = np.zeros((120, 300), np.uint8)
    cv2.putText(truth, "2024", (20, 95), cv2.FONT_HERSHEY_SIMPLEX, 3, 255, 8)
    truth = truth > 0
    paper = np.full(truth.shape, 230.0)
    if gradient:  # a shadow falling across the page: 230 on the left down to 90 on the right
        paper = paper - np.linspace(0, 140, truth.shape[1])[None, :]
    image = np.where(truth, paper * 0.25, paper)
    if not dark_ink:
        image = 255 - image
    return image.astype(np.uint8), truth


@pytest.mark.parametrize("dark_ink", [True, False])
def test_polarity_is_detected(dark_ink: bool) -> None:
    image, truth = _page(dark_ink)
    assert ink_is_dark(image) is dark_ink
    mask = binarize(image)
    assert (mask == truth).mean() > 0.99


def test_shadowed_page_uses_local_thresholding() -> None:
    image, truth = _page(gradient=True)
    # A global threshold loses the digits in the shadow; "auto" must not.
    _, otsu = cv2.threshold(255 - image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    assert ((otsu > 0) == truth).mean() < 0.9
    mask = binarize(image)
    recall = (mask & truth).sum() / truth.sum()
    precision = (mask & truth).sum() / max(mask.sum(), 1)
    assert recall > 0.9 and precision > 0.9


def test_a_big_shadowed_page_is_flattened_on_a_reduced_copy_with_the_same_ink(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    module = importlib.import_module("segmentation.binarize")  # the package exports a function of that name

    small, truth = _page(gradient=True)
    image = cv2.resize(small, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)  # 1800x720, window 143 px
    truth = cv2.resize(truth.view(np.uint8), None, fx=6, fy=6, interpolation=cv2.INTER_NEAREST) > 0
    assert min(image.shape) // 5 > module.BACKGROUND_KERNEL
    reduced = binarize(image)
    monkeypatch.setattr(module, "BACKGROUND_KERNEL", 10_000)  # the opening at full resolution
    exact = binarize(image)
    assert (reduced == exact).mean() > 0.995
    recall = (reduced & truth).sum() / truth.sum()
    precision = (reduced & truth).sum() / max(reduced.sum(), 1)
    assert recall > 0.9 and precision > 0.9


@pytest.mark.parametrize("shadow", [False, True])
def test_a_marker_as_wide_as_the_usual_background_opening_comes_out_whole(shadow: bool) -> None:
    # An 8 and a 1 drawn 20 px wide on a 110 px page, whose usual opening (a fifth of it, 23 px)
    # would take the 8's crossing and the 1's middle for paper.
    truth = np.zeros((110, 200), np.uint8)
    cv2.circle(truth, (60, 35), 18, 255, 20)
    cv2.circle(truth, (60, 75), 20, 255, 20)
    cv2.line(truth, (140, 15), (140, 95), 255, 20)
    truth = truth > 0
    paper = np.full(truth.shape, 230.0)
    if shadow:
        paper = paper - np.linspace(0, 80, truth.shape[1])[None, :]
    mask = binarize(np.where(truth, paper * 0.25, paper).astype(np.uint8))
    assert (mask & truth).sum() / truth.sum() > 0.99
    assert (mask & truth).sum() / mask.sum() > 0.99


def _filled_six(shadow: bool = False, thumb: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 6 whose loop a marker filled (45 px across) and a 1, in 7 px strokes, on a 110 px page
    (its usual background opening: 23 px); with ``thumb``, a dark half disc 60 px across at the
    right edge. The image (uint8 (H, W)), the ink and the thumb (bool (H, W))."""
    truth = np.zeros((110, 260), np.uint8)
    cv2.line(truth, (70, 15), (50, 70), 255, 7)
    cv2.circle(truth, (65, 72), 22, 255, -1)
    cv2.line(truth, (180, 15), (175, 95), 255, 7)
    paper = np.full(truth.shape, 230.0)
    if shadow:
        paper = paper - np.linspace(0, 80, truth.shape[1])[None, :]
    image = np.where(truth > 0, paper * 0.25, paper)
    edge = np.zeros(truth.shape, np.uint8)
    if thumb:
        cv2.circle(edge, (259, 55), 30, 255, -1)
        image = np.where(edge > 0, 90.0, image)
    return image.astype(np.uint8), truth > 0, edge > 0


@pytest.mark.parametrize("shadow", [False, True])
def test_a_blob_of_ink_wider_than_the_background_opening_comes_out_filled(shadow: bool) -> None:
    # The usual opening keeps the loop's middle as paper, and the 6 came out as a stem and a
    # ring: 0.43 of its ink (0.44 shadowed).
    image, truth, _ = _filled_six(shadow)
    mask = binarize(image)
    assert (mask & truth).sum() / truth.sum() > 0.99
    # Nothing else, but for the last columns of the shadowed page (7 px at its darkest edge,
    # found there before the blob was filled too).
    assert not (mask & ~truth)[:, :250].any()


def test_a_dark_thumb_at_the_page_edge_stays_paper() -> None:
    # Its middle stands above the wider opening as a blob does, but paper beyond the image's
    # edge cannot be told from a dark surround: taken for ink, it came out whole (1 441 px).
    image, truth, thumb = _filled_six(thumb=True)
    mask = binarize(image)
    assert (mask & thumb).sum() < 0.02 * thumb.sum()
    assert (mask & truth).sum() / truth.sum() > 0.99


def _on_squared_paper(line: int, step: int = 20, box_only: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The "2024" page with printed lines of gray level ``line`` under the ink: a grid every
    ``step`` px, or only a box around the writing. Returns the image, the writing, the lines."""
    image, truth = _page()
    lines = np.zeros(truth.shape, bool)
    if box_only:
        lines[[8, 9, 110, 111], 5:295] = True
        lines[8:112, [5, 6, 293, 294]] = True
    else:
        lines[3::step, :] = True
        lines[:, 7::step] = True
    return np.where(lines & ~truth, line, image).astype(np.uint8), truth, lines


def _assert_lines_out_writing_kept(image: np.ndarray, truth: np.ndarray, lines: np.ndarray) -> None:
    """``binarize(image)`` keeps no pixel of ``lines`` away from the writing, every pixel of
    the writing (``truth``), and next to nothing else."""
    mask = binarize(image)
    away = lines & ~cv2.dilate(truth.view(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert not (mask & away).any()
    assert (mask & truth).sum() == truth.sum()
    assert (mask & ~truth).sum() < 0.01 * truth.sum()


@pytest.mark.parametrize("step", [20, 32])
def test_a_faint_grid_is_taken_out_and_the_writing_kept(step: int) -> None:
    image, truth, lines = _on_squared_paper(170, step)  # ink at 57 on paper at 230
    _assert_lines_out_writing_kept(image, truth, lines)


def test_a_faint_box_or_a_grid_as_dark_as_the_writing_is_left_to_segmentation() -> None:
    image, truth, lines = _on_squared_paper(170, box_only=True)
    assert binarize(image)[lines & ~truth].all()  # two and two lines are a box, not a grid
    image, truth, lines = _on_squared_paper(57)
    mask = binarize(image)
    assert mask[lines].all()
    assert faint_grid(255 - image, mask) is None


def _on_ruled_paper(
    line: int, rows: list[int], *, span: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The "2024" page with flat printed lines, 2 px thick, of gray level ``line`` under the
    ink at ``rows``, from edge to edge or over the columns ``span``. Returns the image, the
    writing, the lines."""
    image, truth = _page()
    lines = np.zeros(truth.shape, bool)
    left, right = span or (0, truth.shape[1])
    for row in rows:
        lines[row : row + 2, left:right] = True
    return np.where(lines & ~truth, line, image).astype(np.uint8), truth, lines


@pytest.mark.parametrize("turned", [False, True])
@pytest.mark.parametrize("rows", [[30, 97], [12, 50, 88], list(range(5, 120, 22))])
def test_faint_ruled_paper_is_taken_out_and_the_writing_kept(rows: list[int], turned: bool) -> None:
    # A notebook's lines, under the writing, through it, or both: the threshold keeps a faint
    # line where it runs bare and drops it near dark strokes, and what it keeps there sticks
    # to the digits in pieces. Turned a quarter, the lines stand upright.
    image, truth, lines = _on_ruled_paper(170, rows)
    if turned:
        image, truth, lines = (np.ascontiguousarray(np.rot90(a)) for a in (image, truth, lines))
    _assert_lines_out_writing_kept(image, truth, lines)


def test_faint_lines_that_end_short_of_the_page_edges_are_left_to_segmentation() -> None:
    # A form's two rules, or a box's top and bottom whose sides the paper around it leaves too
    # short to count: no ruled paper, whose lines run off the page. Cut out here, they left
    # the ends of the box's sides, or what a rule's removal at a crossing stroke breaks off.
    # (Segmentation takes out such lines whole, strokes crossing them kept.)
    image, truth, lines = _on_ruled_paper(170, [30, 97])
    assert faint_grid(255 - image, truth | lines) is not None
    for span in [(40, 260), (0, 250)]:
        image, truth, lines = _on_ruled_paper(170, [30, 97], span=span)
        assert faint_grid(255 - image, truth | lines) is None
    image, truth, lines = _on_ruled_paper(170, [30, 97])
    lines[30:99, [10, 11, 288, 289]] = True  # a box's sides: lines the other way
    image[lines & ~truth] = 170
    assert faint_grid(255 - image, truth | lines) is None


@pytest.mark.parametrize("row", [40, 60])
def test_one_faint_line_through_the_writing_is_taken_out_and_the_writing_kept(row: int) -> None:
    # A fold across the page, or the one line of a notebook's ruling that a tight crop shows,
    # through the digits: segmentation took it out with the strokes that run along it.
    image, truth, lines = _on_ruled_paper(170, [row])
    _assert_lines_out_writing_kept(image, truth, lines)


@pytest.mark.parametrize("width", [5.0, 8.0])
def test_a_soft_fold_through_the_writing_is_taken_out_whole(width: float) -> None:
    # A fold wider than a printed line: cut 5 px thick, its two rims were left along it as thin
    # lines stuck to the digits.
    image, truth = _page()
    rows = np.arange(image.shape[0], dtype=np.float64)[:, None]
    fold = 60.0 * np.exp(-(((rows - 60.0) / width) ** 2))
    image = np.clip(image - fold, 0, 255).astype(np.uint8)
    mask = binarize(image)
    near = cv2.dilate(truth.view(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert not (mask & ~near).any()
    assert (mask & truth).sum() >= 0.98 * truth.sum()


def test_one_faint_line_beside_the_writing_is_left_to_segmentation() -> None:
    # Above the writing, or under it (an underline, a field's bottom edge); and under it with a
    # margin line down the page from it, which puts ink below it but crosses it once. Cut out
    # here, by its faint pixels only, an underline left pieces stuck to the digits.
    for row in (10, 102):
        image, truth, lines = _on_ruled_paper(170, [row])
        assert faint_grid(255 - image, truth | lines) is None
    image, truth, lines = _on_ruled_paper(170, [102])
    image, truth = np.pad(image, ((0, 120), (0, 0)), constant_values=230), np.pad(truth, ((0, 120), (0, 0)))
    lines = np.pad(lines, ((0, 120), (0, 0)))
    truth[:, 284:288] = True
    image[truth] = 57
    assert faint_grid(255 - image, truth | lines) is None


def test_sparse_writing_under_a_faint_shadow_is_not_thresholded_globally() -> None:
    # A phone photo: little writing on a big page, a shadow too faint to look uneven, sensor noise.
    truth = np.zeros((900, 1200), bool)
    text = np.zeros((120, 300), np.uint8)
    cv2.putText(text, "2024", (20, 95), cv2.FONT_HERSHEY_SIMPLEX, 3, 255, 8)
    truth[400:520, 450:750] = text > 0
    paper = np.repeat(225.0 - np.linspace(0, 42, 1200)[None, :], 900, axis=0)
    noise = np.random.default_rng(0).normal(0.0, 3.0, truth.shape)
    image = np.clip(np.where(truth, 120.0, paper) + noise, 0, 255).astype(np.uint8)  # a soft pencil
    _, otsu = cv2.threshold(255 - image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    assert (otsu > 0).mean() > 0.3  # a global threshold splits the paper in two
    mask = binarize(image)
    assert (mask & truth).sum() / truth.sum() > 0.9
    # What else is called ink is scattered noise, a few percent of the page at most.
    assert mask.mean() < 0.03
    _, _, stats, _ = cv2.connectedComponentsWithStats((mask & ~truth).view(np.uint8))
    assert stats[1:, cv2.CC_STAT_AREA].max() < 0.01 * truth.sum()


def test_the_writing_region_is_its_marks_and_a_margin_of_their_height() -> None:
    mask = np.zeros((200, 300), bool)
    mask[80:120, 100:140] = True  # a mark 40 rows tall
    mask[90:110, 150:180] = True
    pad = int(np.ceil(PAPER_MARGIN * 40)) + 2
    assert writing_region(mask) == (80 - pad, 120 + pad, 100 - pad, 180 + pad)
    mask[5, 5] = True  # a speck of noise far away: under 1/20 of the biggest mark's ink
    assert writing_region(mask) == (80 - pad, 120 + pad, 100 - pad, 180 + pad)
    mask[5:15, 5:15] = True  # a mark with enough ink to be writing
    assert writing_region(mask) == (0, 120 + pad, 0, 180 + pad)
    # The region clipped to the image is the whole image, or there is no ink: nothing to crop.
    assert writing_region(mask[80 - pad + 1 : 120 + pad - 1, 100 - pad + 1 : 180 + pad - 1]) is None
    assert writing_region(np.zeros((50, 50), bool)) is None


def test_specks_of_noise_do_not_spread_the_region_of_tiny_writing() -> None:
    # Writing 8 px tall on a big photo: marks of 5-30 px, whose 1/20 is one or two pixels, as
    # much as the JPEG noise binarization leaves scattered over the page.
    mask = np.zeros((400, 600), bool)
    mask[200:208, 300:303] = True  # a 1, 24 px
    mask[200:208, 306:310] = True  # a stroke of a 4
    mask[202:204, 312:314] = True  # a piece of a digit, 4 px: writing
    pad = int(np.ceil(PAPER_MARGIN * 8)) + 2
    writing = (200 - pad, 208 + pad, 300 - pad, 314 + pad)
    assert writing_region(mask) == writing
    rng = np.random.default_rng(0)
    for y, x in zip(rng.integers(0, 400, 60), rng.integers(0, 600, 60)):
        mask[y, x : x + int(rng.integers(1, 3))] = True  # one- and two-pixel specks
    assert writing_region(mask) == writing
    # A page of nothing but specks has no writing to crop to.
    assert writing_region(mask[:150]) is None


def test_a_line_amid_much_paper_has_the_ink_it_has_on_a_tight_page(mnist_test) -> None:  # type: ignore[no-untyped-def]
    # The same lines (the margin does not change what else is drawn), on paper 2.5-4 digit
    # heights wide, as a phone photo frames them, and 0.3-0.8 wide, as the training lines were.
    # A global threshold over the whole page moves towards the ink as the paper grows (7 % less
    # ink in the median of 150 such lines, 13 % at most), and thin strokes break; the writing's
    # region is binarized alone.
    wide, tight = (
        LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="mixed", margin=margin), seed=77)
        for margin in ((2.5, 4.0), (0.3, 0.8))
    )
    for _ in range(20):
        page, line = wide.line(length=5), tight.line(length=5)
        assert page.text == line.text
        assert 0.99 <= binarize(page.image).sum() / binarize(line.image).sum() <= 1.07


def test_blank_and_faint_noise_pages_have_no_ink() -> None:
    blank = np.full((100, 200), 240, np.uint8)
    noisy = np.clip(240 + np.random.default_rng(0).normal(0, 3, (100, 200)), 0, 255).astype(np.uint8)
    assert is_blank(blank) and is_blank(noisy)
    assert not binarize(blank).any() and not binarize(noisy).any()


def test_a_small_number_on_a_big_page_is_not_blank(mnist_test) -> None:  # type: ignore[no-untyped-def]
    # Its ink is 0.1 % of the page: the gray levels' range without the darkest and lightest 0.5 %
    # is the paper's alone, under MIN_CONTRAST, and the page was taken for blank.
    gen = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated"), seed=31)
    page, small = on_a_big_page(gen.line("90210").image, np.random.default_rng(31))
    lo, hi = np.percentile(page, [0.5, 99.5])
    assert hi - lo < MIN_CONTRAST
    assert not is_blank(page)
    ink = binarize(page)
    rows, columns = np.nonzero(ink)
    top, left = PAGE_CORNER
    assert top <= rows.min() and rows.max() < top + small.shape[0]
    assert left <= columns.min() and columns.max() < left + small.shape[1]
    assert 0.9 <= ink.sum() / binarize(small).sum() <= 1.1


def test_rejects_non_gray_input() -> None:
    with pytest.raises(ValueError):
        binarize(np.zeros((10, 10, 3), np.uint8))


def test_sauvola_threshold_matches_scikit_image() -> None:
    from skimage.filters import threshold_sauvola

    from segmentation import sauvola_threshold

    rng = np.random.default_rng(3)
    image, _ = _page(gradient=True)
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    for window in (15, 31, 61):
        np.testing.assert_allclose(sauvola_threshold(image, window), threshold_sauvola(image, window_size=window, k=0.2), atol=1e-6)


@pytest.mark.parametrize("shade", [0.0, 30.0])
def test_a_tiny_number_on_a_big_shaded_page_is_its_only_ink(mnist_test, shade: float) -> None:  # type: ignore[no-untyped-def]
    # Digits 14-20 px tall on a 1 400 x 1 600 page, 0.01 % of it. Under a shadow's gradient a
    # global threshold split the page near half and half and took the light side for ink, and
    # the page came out without any.
    gen = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated"), seed=31)
    top, left = PAGE_CORNER
    for text in ("90210", "31337"):
        page, small = on_a_big_page(gen.line(text).image, np.random.default_rng(31), factor=0.2, shade=shade, noise=1.5)
        ink = binarize(page)
        own = binarize(small)
        within = ink[top : top + small.shape[0], left : left + small.shape[1]]
        assert ink.sum() == within.sum()
        assert (within & own).sum() >= 0.9 * own.sum()


def test_a_blank_page_with_faint_specks_is_blank() -> None:
    # Paper grain and a dozen faint specks of dust (4 x 4 px, 22 gray levels): the page's 40
    # darkest px span over MIN_CONTRAST from its 40 lightest, but stand under it beyond the
    # paper's own 0.5 % range. A tiny number's ink stands 60 levels and more beyond it.
    rng = np.random.default_rng(8)
    for _ in range(4):
        page = 200 + cv2.GaussianBlur(rng.normal(0, 9, (1400, 1600)), (0, 0), 1.2)
        for y, x in zip(rng.integers(10, 1390, 12), rng.integers(10, 1590, 12)):
            page[y - 2 : y + 2, x - 2 : x + 2] -= 22
        page = np.clip(page, 0, 255).astype(np.uint8)
        smooth = np.sort(cv2.blur(page, (3, 3)).ravel())
        assert smooth[-40] - smooth[40] >= MIN_CONTRAST
        assert is_blank(page)
        assert not binarize(page).any()


@pytest.mark.parametrize(("contrast", "noise"), [(14.0, 0.0), (14.0, 1.0), (18.0, 0.0)])
def test_faint_writing_on_a_clean_page_is_not_blank(mnist_test, contrast: float, noise: float) -> None:  # type: ignore[no-untyped-def]
    # A light pencil or faded ink: its gray levels span under MIN_CONTRAST, and the page was
    # taken for blank; clean paper (little noise, no stain) shows it plainly.
    gen = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated"), seed=41)
    rng = np.random.default_rng(41)
    for text in ("90210", "31337"):
        line = gen.line(text).image
        page = faded(line, contrast, rng, noise=noise)
        lo, hi = np.percentile(page, [0.5, 99.5])
        assert MIN_FAINT <= hi - lo < MIN_CONTRAST
        assert not is_blank(page)
        assert is_blank(page, faint=False)
        ink, bold = binarize(page), binarize(line)
        assert (ink & bold).sum() >= 0.8 * bold.sum() and (ink & ~bold).sum() <= 0.1 * bold.sum()


@pytest.mark.parametrize("depth", [10.0, 16.0, 22.0])
def test_stains_and_folds_fainter_than_min_contrast_stay_blank(depth: float) -> None:
    # Soft marks in the paper as faint as faint writing: they have no stroke's sharp edges, and
    # taken for writing they read as a 0 or a 1. (Under noise of std 2 a few px of one may come
    # through, which the recognizer's test reads as nothing.)
    for _, noise, page in soft_marks(depth, seed=5):
        if noise < 2.0:
            assert is_blank(page)
            assert not binarize(page).any()


@pytest.mark.parametrize("depth", [30.0, 60.0, 90.0])
def test_stains_as_dark_as_writing_are_not_ink(depth: float) -> None:
    # Past MIN_CONTRAST the page holds writing, and a stain's middle, thresholded, was a mark of
    # thousands of px that read as a "0". Its edges are soft, as no stroke's are. (A fold is as
    # narrow as a blurred stroke, and is not judged by its edges: it goes as a lone line down the
    # page, a trough dark in its middle only.)
    for name, _, page in soft_marks(depth, seed=5):
        assert binarize(page).sum() < SOFT_MIN_AREA, name


@pytest.mark.parametrize("depth", [90.0, 120.0])
def test_a_soft_smudge_below_the_writing_is_not_ink(mnist_test, depth: float) -> None:  # type: ignore[no-untyped-def]
    # A smudge (graphite from a thumb, a drop of coffee) as dark as the ink at its middle: its
    # tip, thresholded, was a mark read as a second line, a "0"; the writing keeps its ink.
    gen = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated"), seed=41)
    rng = np.random.default_rng(41)
    for text in ("90210", "31337", "64508", "72196"):
        line = gen.line(text).image
        mask, bold = binarize(smudged(line, depth, rng)), binarize(line)
        assert mask[line.shape[0] :].sum() < SOFT_MIN_AREA
        writing = mask[: line.shape[0]]
        assert (writing & bold).sum() >= 0.99 * bold.sum() and (writing & ~bold).sum() <= 0.1 * bold.sum()


@pytest.mark.parametrize("kind", ["fold", "margin"])
def test_a_line_down_the_whole_page_is_not_ink(mnist_test, kind: str) -> None:  # type: ignore[no-untyped-def]
    # A fold or a margin line down a page three times as tall as the written line was ink, and was
    # measured as the writing's height: the page was shrunk until the digits were specks. It goes,
    # and the writing keeps its ink.
    for _, page, plain, grow in pages_with_a_line(mnist_test, kind):
        mask = binarize(page)
        assert not mask[:grow].any() and not mask[-grow:].any()
        bold = binarize(plain)[grow:-grow]
        assert (mask[grow:-grow] & bold).sum() >= 0.98 * bold.sum()


@pytest.mark.parametrize("lean", [0.0, 0.06, -0.12])
def test_a_line_down_the_page_in_pieces_is_not_ink(lean: float) -> None:
    # The paper's edge, where the table beyond is faint, thresholds into dashes (it steps from one
    # column to the next): only the first piece met the page's edge, and alone it was no taller
    # than the writing, so all stayed ink (read as 1s on lines of their own). The dashes along it
    # are more of the line, and go with it; the writing keeps its ink.
    image, truth = _page()
    grow = image.shape[0]
    page = np.pad(image, ((grow, grow), (0, 0)), constant_values=230)
    writing = np.pad(truth, ((grow, grow), (0, 0)))
    for top in range(0, 290, 45):  # (ending short of the page's bottom: no piece from the bottom)
        x = 275 + lean * (top - 180)
        cv2.line(page, (round(x), top), (round(x + lean * 35), top + 35), 60, 2)
    mask = binarize(page)
    assert not mask[:, 250:].any()
    assert (mask & writing).sum() >= 0.99 * writing.sum() and not (mask & ~writing)[:, :250].any()


@pytest.mark.parametrize(
    "lines",
    [
        ("fold",),
        ("fold", "fold"),
        ("fold", "fold", "fold"),
        ("fold", "fold across"),
        ("rule", "rule across"),
        ("fold", "rule across"),
    ],
)
def test_a_lone_line_down_a_blank_page_that_no_pen_drew_is_not_ink(lines: tuple[str, ...]) -> None:
    # A line down a blank page with nothing written beside it was left as it is, as a 1 drawn past
    # a canvas's edges may be; but a fold (a soft trough, dark in its middle only) is no stroke,
    # and a line crossed by one that runs across the page from side to side (a folded page, a
    # table's lines) no 1: they read as "1", "7" or "4". What is left is the line across, in
    # under a quarter of the page's rows (segmentation takes it for a rule). Folds down the page
    # that cross (an X) or meet (a V) are one mark, straight in none of it or only where they run
    # as one band: they were left whole, and read "1" or "11".
    rng = np.random.default_rng(47)
    for size in BLANK_PAGES * 2:
        mask = binarize(lines_on_a_blank_page(lines, rng, size))
        if set(lines) == {"fold"}:
            assert not mask.any()
        else:
            assert np.count_nonzero(mask.any(axis=1)) < 0.25 * size[0]


def test_a_cross_or_a_vee_drawn_off_the_canvas_is_still_ink() -> None:
    # Two folds that cross or meet down a blank page go (above); two strokes a pen drew so, sharp,
    # are what was written, and stay.
    for ends in (((100, -5), (300, 205), (300, -5), (100, 205)), ((150, -5), (200, 205), (250, -5), (200, 205))):
        canvas = np.full((200, 400), 255, np.uint8)
        cv2.line(canvas, ends[0], ends[1], 0, 8)
        cv2.line(canvas, ends[2], ends[3], 0, 8)
        assert np.array_equal(binarize(canvas), canvas < 128)


def test_a_one_drawn_off_the_canvas_is_still_ink() -> None:
    # A page line has writing beside it; a 1 drawn past both edges of a canvas, alone or with a
    # dot beside it, is the writing.
    for canvas in ones_off_the_canvas():
        assert np.array_equal(binarize(canvas), canvas < 128)


@pytest.mark.parametrize("lean", [0, 3])
def test_a_one_standing_on_an_underline_across_the_page_is_still_ink(lean: int) -> None:
    # A 1 and the underline it stands on are one mark, and the underline reaches both sides of
    # the page: the 1 was taken for a page line that ran off a side, and a form's field that read
    # "1" read empty. A page line runs off a side itself, not through ink joined to it.
    for width, pen in ((217, 3), (600, 2), (1200, 4)):
        page = np.full((54, width), 230, np.uint8)
        cv2.line(page, (width // 2 + lean, 22), (width // 2, 38), 40, 3)
        cv2.line(page, (0, 39), (width - 1, 39), 30, pen)
        assert np.array_equal(binarize(page), page < 128)


def test_photographed_writing_keeps_all_its_ink_where_soft_marks_are_taken_out(mnist_test, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Overlapping digits photographed at full strength (blur, noise, shadow), the same faded, and
    # faded under a strong shadow: thick, soft-edged writing, close to the image's edges. A plane
    # fitted to the few px of paper an edge left beside such a line was carried far past them,
    # and then a few px of the shadow's light end taken for the paper at the line: whole lines
    # were taken for smudges.
    binarize_module = importlib.import_module("segmentation.binarize")
    config = SynthConfig(gap="overlapping", margin=(0.1, 0.3))
    gen = LineGenerator(mnist_test.images, mnist_test.labels, config=config, seed=7)
    rng = np.random.default_rng(7)
    for _ in range(40):
        gray = cv2.cvtColor(photograph(gen.line(None, length=5), rng, strength=1.0).image, cv2.COLOR_RGB2GRAY)
        pale = np.clip(235 - 0.15 * (235 - gray.astype(np.float64)), 0, 255).astype(np.uint8)
        for page in (gray, pale, faded(gray, 30.0, rng, shadow=80.0)):
            found = binarize(page)
            with monkeypatch.context() as patch:
                patch.setattr(binarize_module, "_without_soft_marks", lambda ink, mask: mask)
                assert np.array_equal(found, binarize(page))


@pytest.mark.parametrize(("contrast", "shadow"), [(30.0, 60.0), (30.0, 100.0), (60.0, 100.0)])
def test_ink_polarity_of_pale_writing_under_a_strong_shadow(mnist_test, contrast: float, shadow: float) -> None:  # type: ignore[no-untyped-def]
    # The shadow splits the page near half and half; a mean of a pixel's surroundings, darkened by
    # thick strokes, left the paper beside them standing out nearly as far as the ink, and pale
    # writing was taken for light ink on dark paper (then read as fragments).
    gen = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated"), seed=41)
    rng = np.random.default_rng(41)
    for text in ("90210", "31337", "64508", "72196"):
        page = faded(gen.line(text).image, contrast, rng, shadow=shadow)
        assert ink_is_dark(page)
        assert not ink_is_dark(255 - page)


@pytest.mark.parametrize(("contrast", "shadow"), [(16.0, 60.0), (18.0, 100.0)])
def test_faint_writing_under_a_shadow_is_found(mnist_test, contrast: float, shadow: float) -> None:  # type: ignore[no-untyped-def]
    # Under a shadow the page is flattened first, and the flattened page's spread, under
    # MIN_CONTRAST, was taken for blank paper.
    gen = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated"), seed=41)
    rng = np.random.default_rng(41)
    for text in ("90210", "31337", "64508", "72196"):
        line = gen.line(text).image
        ink, bold = binarize(faded(line, contrast, rng, shadow=shadow)), binarize(line)
        assert (ink & bold).sum() >= 0.9 * bold.sum() and (ink & ~bold).sum() <= 0.05 * bold.sum()


def test_ink_polarity_under_a_shadow_that_splits_the_page_in_half() -> None:
    # A global threshold splits the shading; what stands out from its surroundings is the ink.
    page = np.clip(np.linspace(150, 220, 800)[None, :] + np.zeros((600, 1)), 0, 255).astype(np.uint8)
    light = page.copy()
    page[300:320, 390:420] = 60
    light[300:320, 390:420] = 250
    assert ink_is_dark(page)
    assert not ink_is_dark(light)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 9, 15, 16, 17, 31, 37, 63])
def test_the_disc_opening_is_opencvs_ellipse_opening_pixel_for_pixel(size: int) -> None:
    # The background opening runs as rectangles for speed; it must stay OpenCV's ellipse opening
    # exactly, on images smaller and larger than the disc, at their edges too.
    module = importlib.import_module("segmentation.binarize")
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    rng = np.random.default_rng(size)
    for shape in [(1, 1), (3, 50), (size, size + 1), (40, 90), (123, 77)]:
        smooth = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 2.0)
        for image in (rng.integers(0, 256, shape, dtype=np.uint8), smooth):
            expected = cv2.morphologyEx(image, cv2.MORPH_OPEN, disc)
            assert np.array_equal(module._disc_open(image, size), expected), (size, shape)


@settings(max_examples=300, deadline=None)
@given(
    values=arrays(np.uint8, array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=60)),
    skew=st.integers(0, 255),
    qs=st.lists(st.floats(0.0, 100.0, allow_nan=False), min_size=1, max_size=4),
)
def test_percentiles_of_a_page_are_numpys_to_the_bit(values: np.ndarray, skew: int, qs: list[float]) -> None:
    # binarize reads a page's percentiles from its histogram, for speed: they must stay numpy's
    # (linear interpolation) exactly, or the masks would move. Pages of few levels, as paper is.
    module = importlib.import_module("segmentation.binarize")
    pages = [values, np.minimum(values, skew), np.where(values > skew, 255, values).astype(np.uint8)]
    for page in pages:
        expected = tuple(float(v) for v in np.percentile(page, qs))
        assert module._percentiles(page, tuple(qs)) == expected


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)])
def test_an_image_of_no_pixels_is_blank(shape: tuple[int, int]) -> None:
    empty = np.zeros(shape, np.uint8)
    assert is_blank(empty) and is_blank(empty, faint=False)
    assert binarize(empty).shape == shape and not binarize(empty).any()
