from __future__ import annotations

import numpy as np
import pytest

from datasets.synth import GAP_KINDS, LineGenerator, SynthConfig


@pytest.mark.parametrize("gap", GAP_KINDS)
def test_line_has_text_and_one_box_per_digit(lines: LineGenerator, gap: str) -> None:
    line = lines.line("40213", gap=gap)
    assert line.text == "40213"
    assert line.image.dtype == np.uint8 and line.image.ndim == 2
    assert len(line.boxes) == 5
    h, w = line.image.shape
    for box in line.boxes:
        assert 0 <= box.x and box.right <= w and 0 <= box.y and box.bottom <= h
    lefts = [b.x for b in line.boxes]
    assert lefts == sorted(lefts)


def test_gap_kinds_control_spacing(lines: LineGenerator) -> None:
    wide = lines.line("1111", gap="wide", slant=(0.0, 0.0))
    overlap = lines.line("1111", gap="overlapping", slant=(0.0, 0.0))
    gaps_wide = [b.x - a.right for a, b in zip(wide.boxes, wide.boxes[1:])]
    gaps_overlap = [b.x - a.right for a, b in zip(overlap.boxes, overlap.boxes[1:])]
    assert min(gaps_wide) > 0
    assert max(gaps_overlap) < 0


def test_polarity_and_reproducibility(mnist_test) -> None:  # type: ignore[no-untyped-def]
    a = LineGenerator(mnist_test.images, mnist_test.labels, seed=7).line(length=4, dark_on_light=False)
    b = LineGenerator(mnist_test.images, mnist_test.labels, seed=7).line(length=4, dark_on_light=False)
    assert a.text == b.text and np.array_equal(a.image, b.image)
    # Light ink on a dark page: the page (most pixels) is dark.
    assert np.median(a.image) < 128


def test_unknown_digit_is_an_error(mnist_test) -> None:  # type: ignore[no-untyped-def]
    gen = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig())
    with pytest.raises(ValueError):
        gen.line("12a")


def test_photograph_keeps_ground_truth(lines: LineGenerator) -> None:
    from datasets.photo import photograph

    line = lines.line("1234")
    photo = photograph(line, np.random.default_rng(0), strength=1.0)
    assert photo.text == "1234" and photo.boxes == line.boxes
    assert photo.image.shape == (*line.image.shape, 3) and photo.image.dtype == np.uint8
    calm = photograph(line, np.random.default_rng(0), strength=0.0)
    # Strength 0 only recolours: ink still where the digits are, paper elsewhere.
    gray = calm.image.mean(axis=2)
    b = line.boxes[0]
    assert gray[b.y : b.bottom, b.x : b.right].min() < gray[:3, :3].mean() - 50


def test_an_enlarged_photo_keeps_its_digits_where_they_were(lines: LineGenerator) -> None:
    from datasets.photo import enlarge, photograph

    line = lines.line("1234")
    photo = photograph(line, np.random.default_rng(0), strength=0.5)
    big = enlarge(photo, np.random.default_rng(1), width=4 * line.image.shape[1])
    assert big.image.shape == (4 * line.image.shape[0], 4 * line.image.shape[1], 3)
    assert big.text == "1234"
    assert big.boxes == tuple(type(b)(4 * b.x, 4 * b.y, 4 * b.width, 4 * b.height) for b in line.boxes)
    gray = big.image.mean(axis=2)
    for b in big.boxes:  # ink inside every digit's box, paper in the corner
        assert gray[b.y : b.bottom, b.x : b.right].min() < gray[:12, :12].mean() - 50


def test_breaks_cut_strokes(mnist_test) -> None:  # type: ignore[no-untyped-def]
    whole = LineGenerator(mnist_test.images, mnist_test.labels, seed=3).line("0", breaks=0.0)
    broken = LineGenerator(mnist_test.images, mnist_test.labels, seed=3).line("0", breaks=1.0)
    assert (broken.image < 128).sum() < (whole.image < 128).sum()


def test_furniture_is_drawn_but_boxes_stay_on_the_digits(mnist_test) -> None:  # type: ignore[no-untyped-def]
    plain = LineGenerator(mnist_test.images, mnist_test.labels, seed=4).line("555", furniture=0.0)
    ruled = LineGenerator(mnist_test.images, mnist_test.labels, seed=4).line("555", furniture=1.0)
    assert ruled.boxes == plain.boxes
    assert (ruled.image < 128).sum() > (plain.image < 128).sum()


def test_mixed_lines_mix_touching_and_separated_pairs(lines: LineGenerator) -> None:
    gaps = []
    for _ in range(10):
        line = lines.line("00000", gap="mixed", slant=(0.0, 0.0))  # 0s: a gap shows in the boxes
        gaps += [b.x - a.right for a, b in zip(line.boxes, line.boxes[1:])]
    assert any(g > 2 for g in gaps) and any(g <= 0 for g in gaps)


def test_a_hyphen_is_drawn_between_the_digit_groups_at_mid_height(mnist_test) -> None:  # type: ignore[no-untyped-def]
    config = SynthConfig(gap="separated", slant=(0.0, 0.0), baseline_jitter=0.0, dark_on_light=True)
    for seed in range(5):
        line = LineGenerator(mnist_test.images, mnist_test.labels, config=config, seed=seed).line("123-45")
        assert line.text == "123-45" and len(line.boxes) == 5  # a hyphen has no digit box
        left, right = line.boxes[2], line.boxes[3]
        between = line.image[:, left.right : right.x] < 128
        rows = np.flatnonzero(between.any(axis=1))
        assert rows.size > 0, "no ink between the groups"
        top, bottom = min(b.y for b in line.boxes), max(b.bottom for b in line.boxes)
        middle = (rows.mean() - top) / (bottom - top)
        assert 0.3 < middle < 0.75 and rows.size < 0.3 * (bottom - top)  # a flat stroke, near the middle


def test_a_space_between_groups_is_wider_than_the_gaps_within(mnist_test) -> None:  # type: ignore[no-untyped-def]
    config = SynthConfig(gap="separated", slant=(0.0, 0.0))
    for seed in range(5):
        line = LineGenerator(mnist_test.images, mnist_test.labels, config=config, seed=seed).line("12 345")
        assert line.text == "12 345" and len(line.boxes) == 5
        gaps = [b.x - a.right for a, b in zip(line.boxes, line.boxes[1:])]
        height = max(b.height for b in line.boxes)
        assert gaps[1] >= 0.45 * height > max(gaps[0], *gaps[2:])


def test_lines_without_separators_are_drawn_as_before(mnist_test) -> None:  # type: ignore[no-untyped-def]
    """A line's random draws do not depend on separators being supported: the line the
    generator drew for seed 11 before they were (its text and boxes, recorded then)."""
    line = LineGenerator(mnist_test.images, mnist_test.labels, seed=11).line(length=6, gap="mixed")
    assert line.text == "117456"
    assert [(b.x, b.y, b.width, b.height) for b in line.boxes] == [
        (25, 23, 21, 44), (56, 24, 12, 40), (67, 26, 39, 38), (108, 24, 49, 39), (161, 23, 35, 42), (195, 26, 26, 39),
    ]


@pytest.mark.parametrize("text", ["-123", "123-", "12--3", "12 -3", "1_2"])
def test_a_separator_only_goes_between_two_digits(mnist_test, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        LineGenerator(mnist_test.images, mnist_test.labels).line(text)
