from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from classifier.model import NOT_A_DIGIT
from classifier.preprocess import PreprocessConfig
from classifier.train import build_pool, build_segmented, held_out_split, minimize_temperature, split_train


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
