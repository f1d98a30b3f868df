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
