from __future__ import annotations

import numpy as np

from classifier.augment import augment_digit, make_fragment, make_pair, make_scribble


def test_augmentations_are_reproducible_and_keep_ink(mnist_test) -> None:  # type: ignore[no-untyped-def]
    digit = mnist_test.images[0]
    a = augment_digit(digit, np.random.default_rng(3))
    b = augment_digit(digit, np.random.default_rng(3))
    assert np.array_equal(a, b)
    assert a.dtype == np.uint8 and (a > 127).sum() > 50


def test_reject_samples_are_shaped_as_claimed(mnist_test) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    first, second = mnist_test.images[3], mnist_test.images[4]  # a 0 and a 4
    pair = make_pair(first, second, rng)
    cols = np.flatnonzero(pair.max(axis=0) > 64)
    rows = np.flatnonzero(pair.max(axis=1) > 64)
    assert (cols[-1] - cols[0]) > 0.9 * (rows[-1] - rows[0])  # two digits side by side are wide
    fragment = make_fragment(first, rng)
    assert 0 < fragment.shape[1] < augment_digit(first, np.random.default_rng(0), strength=0.5).shape[1]
    scribble = make_scribble(rng)
    assert scribble.max() == 255
