from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from classifier.model import NOT_A_DIGIT
from classifier.preprocess import PreprocessConfig
from classifier.train import PEN_CHANGES, build_pool, build_segmented, held_out_split, minimize_temperature, segmented_line, split_train
from datasets.synth import LineGenerator


def test_sample_pool_does_not_depend_on_the_number_of_workers(mnist_test) -> None:  # type: ignore[no-untyped-def]
    images, labels = mnist_test.images[:120], mnist_test.labels[:120]
    one = build_pool(images, labels, kind="distorted", config=PreprocessConfig(), seed=3, workers=1, chunk=50)
    two = build_pool(images, labels, kind="distorted", config=PreprocessConfig(), seed=3, workers=2, chunk=50)
    assert one.shape == (120, 28, 28) and np.array_equal(one, two)
    clean = build_pool(images, labels, kind="clean", config=PreprocessConfig(), seed=3, workers=1)
    assert not np.array_equal(clean, one)


def test_segmenter_cuts_become_digit_and_reject_samples(mnist_test) -> None:  # type: ignore[no-untyped-def]
    x, y = build_segmented(mnist_test.images[:3000], mnist_test.labels[:3000], lines=30, config=PreprocessConfig(), seed=1, workers=1)
    assert x.shape == (len(y), 28, 28) and x.dtype == np.uint8
    assert (y == NOT_A_DIGIT).any() and (y < NOT_A_DIGIT).any()
    assert set(np.unique(y)) <= set(range(11))


def test_held_out_digits_follow_the_split_seed_and_leave_the_run_stream_alone() -> None:
    own = np.random.default_rng(1)
    val, fit = held_out_split(1000, 100, own, seed=1, split_seed=1)
    expected_val, expected_fit = split_train(1000, 100, np.random.default_rng(1))
    assert (val == expected_val).all() and (fit == expected_fit).all()

    shared = np.random.default_rng(1)
    val0, fit0 = held_out_split(1000, 100, shared, seed=1, split_seed=0)
    zero_val, zero_fit = split_train(1000, 100, np.random.default_rng(0))
    assert (val0 == zero_val).all() and (fit0 == zero_fit).all()
    assert not (val0 == val).all()
    # The run's own stream moved on exactly as without a split seed of its own.
    assert own.random() == shared.random()


def test_the_temperature_search_does_not_overshoot_on_a_steep_loss() -> None:
    # A summed loss over confident logits is steep in log T: a plain L-BFGS step from T = 1
    # jumped to T ~ 1e-8, where the loss is 250 000 times T = 1's, and stayed near there.
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(400, 10, generator=g)
    labels = torch.where(torch.rand(400, generator=g) < 0.99, logits.argmax(1), torch.randint(0, 10, (400,), generator=g))

    def loss(t: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits / t, labels, reduction="sum")

    found = minimize_temperature(loss)
    grid = torch.exp(torch.linspace(-5.0, 2.0, 2001))
    best = float(min(loss(t.reshape(1)) for t in grid))
    assert float(loss(torch.tensor([found]))) <= best + 1e-3 * abs(best)
    assert float(loss(torch.tensor([found]))) < float(loss(torch.ones(1)))


def test_a_share_of_segmented_lines_is_written_with_another_pen(mnist_test, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    generator = LineGenerator(mnist_test.images[:500], mnist_test.labels[:500], seed=2)
    line = generator.line
    strokes: list[tuple[int, int] | None] = []

    def spy(text=None, **overrides):  # type: ignore[no-untyped-def]
        strokes.append(overrides.get("stroke"))
        return line(text, **overrides)

    monkeypatch.setattr(generator, "line", spy)
    for _ in range(12):
        segmented_line(generator)
    assert strokes == [None] * 12
    strokes.clear()
    for _ in range(40):
        segmented_line(generator, pens=1.0)
    assert {s for s in strokes} == {(c, c) for c in PEN_CHANGES}
    strokes.clear()
    for _ in range(200):
        segmented_line(generator, pens=0.25)
    assert 25 <= sum(s is not None for s in strokes) <= 75


def test_a_thicker_pen_is_drawn_thicker(mnist_test) -> None:  # type: ignore[no-untyped-def]
    # The change is in pixels of the rendered digit: the same line with the pen 3 px wider
    # carries more ink, and 1 px finer less.
    from segmentation import estimate_stroke_width

    widths = []
    for change in (-1, 0, 3):
        generator = LineGenerator(mnist_test.images[:500], mnist_test.labels[:500], seed=7)
        image = generator.line("2580", stroke=(change, change), blur=(0.0, 0.0), noise=(0.0, 0.0)).image
        widths.append(estimate_stroke_width((image < 128).astype(np.uint8)))
    assert widths[0] < widths[1] < widths[2]
