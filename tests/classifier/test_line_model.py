from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from classifier.line_model import (
    LineNet,
    LineReader,
    batch_lines,
    ctc_beam_search,
    ctc_log_likelihoods,
    default_line_weights_path,
    frames,
    save_line_checkpoint,
)
from classifier.predict import CheckpointError
from classifier.preprocess import LineConfig


def _random_log_probs(frames_: int, seed: int) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(0.0, 2.0, (frames_, 11))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def _exact_distribution(log_probs: np.ndarray) -> dict[str, float]:
    """P(text) by summing every frame-by-frame path (11 ** frames of them) and collapsing it."""
    probs = np.exp(log_probs)
    out: dict[str, float] = {}
    for path in itertools.product(range(11), repeat=len(probs)):
        p = float(np.prod([probs[t, c] for t, c in enumerate(path)]))
        text = "".join(str(c - 1) for t, c in enumerate(path) if c != 0 and (t == 0 or c != path[t - 1]))
        out[text] = out.get(text, 0.0) + p
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ctc_likelihoods_equal_the_sum_over_all_paths(seed: int) -> None:
    log_probs = _random_log_probs(4, seed)
    exact = _exact_distribution(log_probs)
    texts = ["", "3", "33", "303", "1234", "12345", "7"]
    found = ctc_log_likelihoods(log_probs, texts)
    for text, value in zip(texts, found):
        if text in exact:
            assert value == pytest.approx(math.log(exact[text]), abs=1e-9)
        else:  # five digits cannot fit in four frames
            assert value == -math.inf or value < -1e3


@pytest.mark.parametrize("seed", [3, 4])
def test_beam_search_finds_the_most_likely_texts(seed: int) -> None:
    log_probs = _random_log_probs(4, seed)
    exact = sorted(_exact_distribution(log_probs).items(), key=lambda kv: -kv[1])
    found = ctc_beam_search(log_probs, width=400, floor=0.0)
    assert [text for text, _ in found[:5]] == [text for text, _ in exact[:5]]
    for (_, value), (_, p) in zip(found[:5], exact[:5]):
        assert value == pytest.approx(math.log(p), abs=1e-9)


def test_a_padded_batch_gives_each_line_its_own_result() -> None:
    torch.manual_seed(0)
    model = LineNet(width=8, hidden=16).eval()
    reader = LineReader(model=model, config=LineConfig(), temperature=1.0, metrics={})
    rng = np.random.default_rng(5)
    short = (rng.random((32, 40)) > 0.8).astype(np.uint8) * 255
    long = (rng.random((32, 97)) > 0.8).astype(np.uint8) * 255
    together = reader.log_probs([short, long])
    alone = [reader.log_probs([short])[0], reader.log_probs([long])[0]]
    assert [lp.shape for lp in together] == [(frames(40), 11), (frames(97), 11)]
    for a, b in zip(together, alone):
        np.testing.assert_allclose(a, b, atol=1e-5)
        np.testing.assert_allclose(np.exp(a).sum(axis=1), 1.0, atol=1e-9)


def test_batch_pads_to_a_multiple_of_the_stride() -> None:
    x, lengths = batch_lines([np.full((32, 9), 255, np.uint8), np.zeros((32, 30), np.uint8)])
    assert x.shape == (2, 1, 32, 32)
    assert lengths.tolist() == [3, 8]
    assert float(x[0, 0, :, :9].min()) == 1.0 and float(x[0, 0, :, 9:].max()) == 0.0


def test_checkpoint_round_trip_and_bad_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(1)
    model = LineNet(width=8, hidden=16)
    path = tmp_path / "line.pt"
    save_line_checkpoint(path, model, width=8, hidden=16, config=LineConfig(digit_height=20), temperature=1.5, metrics={"a": 1})
    reader = LineReader.load(path)
    assert reader.config == LineConfig(digit_height=20) and reader.temperature == 1.5 and reader.metrics == {"a": 1}
    assert not reader.model.training
    with pytest.raises(CheckpointError, match="not found"):
        LineReader.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        LineReader.load(tmp_path / "junk.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a seqdigits line model"):
        LineReader.load(tmp_path / "other.pt")


def test_shipped_line_model_records_how_it_was_trained() -> None:
    reader = LineReader.load(default_line_weights_path())
    metrics = reader.metrics
    assert metrics["config"]["lines"] >= 10000
    # Measured when the shipped weights were trained (README): held-out digits and MNIST test digits.
    assert metrics["validation_sequence_accuracy"] >= 0.9
    assert metrics["test_sequence_accuracy"] >= 0.88
    assert 0.3 < reader.temperature < 3.0
