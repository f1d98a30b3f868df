from __future__ import annotations

import cv2
import numpy as np
import pytest

from classifier.preprocess import (
    LineConfig,
    PreprocessConfig,
    estimate_stroke_width,
    line_x,
    normalize_digit,
    normalize_line,
)
from segmentation import Atom, Box

CONFIG = PreprocessConfig()


def _centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    mass = image.sum()
    return float((ys * image).sum() / mass), float((xs * image).sum() / mass)


def _ring(size: int, thickness: int) -> np.ndarray:
    crop = np.zeros((size, int(size * 0.7)), np.uint8)
    cv2.ellipse(crop, (crop.shape[1] // 2, size // 2), (crop.shape[1] // 2 - thickness, size // 2 - thickness), 0, 0, 360, 255, thickness)
    return crop


@pytest.mark.parametrize("size,offset", [(40, 0), (300, 17), (13, 5)])
def test_centre_of_mass_lands_at_the_centre(size: int, offset: int) -> None:
    crop = np.zeros((size + 2 * offset, size + 3 * offset), np.uint8)
    # An L shape: its centre of mass is far from its box centre.
    cv2.rectangle(crop, (offset, offset), (offset + size // 5, offset + size - 1), 255, -1)
    cv2.rectangle(crop, (offset, offset + size - size // 5), (offset + size - 1, offset + size - 1), 255, -1)
    out = normalize_digit(crop, CONFIG)
    cy, cx = _centre_of_mass(out)
    assert abs(cy - 13.5) < 0.5 and abs(cx - 13.5) < 0.5


def test_aspect_ratio_is_kept_and_longest_side_is_20() -> None:
    crop = np.zeros((200, 120), np.uint8)
    # A 160 x 80 frame (aspect 2:1) drawn with a pen of MNIST's relative width, so pen correction leaves it be.
    cv2.rectangle(crop, (20, 20), (99, 179), 255, 18)
    out = normalize_digit(crop, CONFIG)
    rows = np.flatnonzero(out.max(axis=1) > 0.5)
    cols = np.flatnonzero(out.max(axis=0) > 0.5)
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert height in (19, 20, 21)
    assert 9 <= width <= 11  # 20 / 2 = 10, give or take the anti-aliased edge


@pytest.mark.parametrize("pen", [3, 10, 30])
def test_stroke_width_is_brought_to_mnist_width(pen: int) -> None:
    out = normalize_digit(_ring(400, pen), CONFIG)
    width = estimate_stroke_width((out > 0.5).astype(np.uint8))
    assert abs(width - CONFIG.stroke_width) < 1.0


def test_output_range_shape_and_polarity() -> None:
    out = normalize_digit(_ring(60, 6), CONFIG)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out[0, :].max() == 0.0 and out[:, 0].max() == 0.0  # background stays black


def test_empty_crop_gives_zeros() -> None:
    assert not normalize_digit(np.zeros((30, 30), np.uint8), CONFIG).any()


def test_rejects_colour_crops() -> None:
    with pytest.raises(ValueError):
        normalize_digit(np.zeros((5, 5, 3), np.uint8), CONFIG)


def test_mnist_digits_change_little(mnist_test) -> None:  # type: ignore[no-untyped-def]
    images = mnist_test.images[:200]
    out = np.stack([normalize_digit(im, CONFIG) for im in images])
    assert float(np.abs(out - images / 255.0).mean()) < 0.08


def test_config_round_trips_through_a_dict() -> None:
    config = PreprocessConfig(stroke_width=2.5)
    assert PreprocessConfig.from_dict({**config.to_dict(), "unknown": 1}) == config


def _atom(x: int, y: int, w: int, h: int) -> Atom:
    mask = np.zeros((h, w), bool)
    mask[:, : max(1, w // 4)] = True  # a bar at the atom's left
    return Atom(0, Box(x, y, w, h), mask, False, False)


def test_normalize_line_scales_the_digit_height_and_centres_the_band() -> None:
    config = LineConfig()
    # Three digits 60 px tall at different heights, and a speck far above them.
    atoms = [_atom(100, 200, 30, 60), _atom(140, 210, 30, 60), _atom(180, 205, 30, 60), _atom(150, 20, 4, 4)]
    line = normalize_line(atoms, 60.0, config)
    assert line is not None and line.dtype == np.uint8
    assert line.shape == (config.height, round((110 + 2 * config.pad * 60 / 24) * 24 / 60))
    inked = np.flatnonzero(line.max(axis=1) > 127)
    # The middle digit (median centre, y 235-265 at 60 px) spans the central 24 rows.
    assert inked[0] >= 2 and inked[-1] <= 29
    assert line[:, : config.pad - 1].max() == 0 and line[:, -(config.pad - 1) :].max() == 0
    # The speck lies outside the band: clipped, and it did not move the band.
    assert normalize_line(atoms[:3], 60.0, config) is not None
    np.testing.assert_array_equal(line, normalize_line(atoms[:3] + atoms[3:], 60.0, config))
    assert normalize_line([], 60.0, config) is None


@pytest.mark.parametrize("height", [24.0, 37.0, 60.0, 130.0])
def test_line_x_puts_the_line_images_columns_back_where_the_atoms_stand(height: float) -> None:
    config = LineConfig()
    # Bars at the atoms' left edges (a quarter of each atom wide); at 60 px, at x 103, 151 and 220.
    f = height / 60.0
    scaled = [
        _atom(round(x * f), round(y * f), round(w * f), round(60 * f))
        for x, y, w in ((103, 10, 40), (151, 14, 36), (220, 12, 44))
    ]
    line = normalize_line(scaled, height, config)
    assert line is not None
    inked = line.max(axis=0) > 127
    starts = np.flatnonzero(inked & ~np.concatenate(([False], inked[:-1])))
    assert len(starts) == 3
    # A bar's first inked column maps back to its atom's left edge, within a column of the line image.
    step = line_x(scaled, height, config, 1.0) - line_x(scaled, height, config, 0.0)
    for column, atom in zip(starts, scaled):
        assert abs(line_x(scaled, height, config, float(column)) - atom.box.x) <= step + 1e-9


def test_normalize_line_is_scale_invariant() -> None:
    small = normalize_line([_atom(10, 10, 20, 40), _atom(34, 12, 20, 40)], 40.0)
    big = normalize_line([_atom(20, 20, 40, 80), _atom(68, 24, 40, 80)], 80.0)
    assert small is not None and big is not None
    assert small.shape == big.shape
    assert np.abs(small.astype(int) - big.astype(int)).mean() < 8
