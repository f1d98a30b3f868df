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
