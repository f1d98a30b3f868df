from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from classifier.model import CLASSES, NOT_A_DIGIT, DigitNet, channels_last
from classifier.predict import CheckpointError, DigitClassifier, default_weights_path, load_checkpoint, save_checkpoint
from classifier.preprocess import PreprocessConfig, normalize_batch
from classifier.train import evaluate, fit_temperature


def test_shipped_weights_carry_their_preprocessing_and_figures() -> None:
    payload = load_checkpoint(default_weights_path())
    assert payload["classes"] == list(CLASSES)
    assert PreprocessConfig.from_dict(payload["preprocess"]).frame == 28
    assert payload["metrics"]["mnist_test"]["accuracy"] >= 0.995
    assert default_weights_path().stat().st_size < 3_000_000


def test_shipped_weights_reach_995_on_mnist_test(recognizer, mnist_test) -> None:  # type: ignore[no-untyped-def]
    clf = recognizer.classifier
    probs = clf.probabilities(normalize_batch(list(mnist_test.images), clf.preprocess))
    predicted = np.delete(probs, NOT_A_DIGIT, axis=1).argmax(axis=1)
    assert float((predicted == mnist_test.labels).mean()) >= 0.995
    assert np.allclose(probs.sum(axis=1), 1.0)


def test_model_is_in_eval_mode_and_batch_order_is_kept(recognizer, mnist_test) -> None:  # type: ignore[no-untyped-def]
    clf = recognizer.classifier
    assert not clf.model.training
    batch = normalize_batch(list(mnist_test.images[:16]), clf.preprocess)
    together = clf.probabilities(batch)
    alone = np.vstack([clf.probabilities(batch[i : i + 1]) for i in range(16)])
    assert np.allclose(together, alone, atol=1e-5)
    assert clf.probabilities(batch[:0]).shape == (0, len(CLASSES))


def test_two_digits_in_one_crop_are_not_a_digit(recognizer, mnist_test) -> None:  # type: ignore[no-untyped-def]
    pair = np.hstack([mnist_test.images[0], mnist_test.images[1]])  # "7" "2" side by side
    probs = recognizer.classifier.classify_crops([pair])
    assert int(probs[0].argmax()) == NOT_A_DIGIT


def test_checkpoint_round_trip_and_errors(tmp_path: Path) -> None:
    model = DigitNet(width=8)
    path = tmp_path / "w.pt"
    save_checkpoint(path, model, width=8, preprocess=PreprocessConfig(), temperature=1.5, metrics={"a": 1})
    loaded = DigitClassifier.load(path)
    assert loaded.temperature == 1.5 and loaded.metrics == {"a": 1}
    with pytest.raises(CheckpointError, match="not found"):
        DigitClassifier.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(CheckpointError):
        DigitClassifier.load(tmp_path / "junk.pt")
    torch.save({"format": "other"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a seqdigits checkpoint"):
        DigitClassifier.load(tmp_path / "other.pt")


def test_a_model_trained_channels_last_is_saved_in_the_plain_layout(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = DigitNet(width=8).eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.inference_mode():
        expected = model(x)
    # As training leaves it: the weights' memory in the channels-last layout.
    model = channels_last(model)
    assert not model.features[2][0].weight.is_contiguous()
    save_checkpoint(tmp_path / "w.pt", model, width=8, preprocess=PreprocessConfig(), temperature=1.0, metrics={})
    state = load_checkpoint(tmp_path / "w.pt")["state_dict"]
    assert all(tensor.is_contiguous() for tensor in state.values())
    plain = DigitNet(width=8).eval()
    plain.load_state_dict(state)
    with torch.inference_mode():
        assert torch.allclose(plain(x), expected, atol=1e-6)


def test_temperature_fit_recovers_a_known_temperature() -> None:
    generator = torch.Generator().manual_seed(0)
    true_logits = torch.randn(4000, 5, generator=generator) * 3
    labels = torch.multinomial(torch.softmax(true_logits, 1), 1, generator=generator).squeeze(1)
    # The model's logits are twice too confident: the fitted temperature should undo that.
    assert abs(fit_temperature(true_logits * 2, labels) - 2.0) < 0.2


def test_evaluate_ignores_the_reject_column() -> None:
    logits = torch.tensor([[0.0] * 10 + [9.0], [0.0] * 10 + [9.0]])
    logits[0, 3] = 5.0
    logits[1, 4] = 5.0
    report = evaluate(logits, np.array([3, 5]))
    assert report["accuracy"] == 0.5 and report["rejected"] == 1.0
    assert report["confusion"][5][4] == 1


def test_folding_batchnorm_keeps_the_function(mnist_test) -> None:  # type: ignore[no-untyped-def]
    from classifier.model import DigitNet, fuse_batchnorm

    torch.manual_seed(0)
    model = DigitNet(width=8)
    model.train()
    for _ in range(3):  # give the running statistics something other than their initial values
        model(torch.rand(16, 1, 28, 28))
    model.eval()
    fused = fuse_batchnorm(model)
    x = torch.from_numpy(normalize_batch(list(mnist_test.images[:32]))).unsqueeze(1)
    with torch.inference_mode():
        assert torch.allclose(model(x), fused(x), atol=1e-4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # the original is untouched


def test_folding_batchnorm_folds_one_dimensional_blocks_too() -> None:
    from classifier.model import fuse_batchnorm

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv1d(4, 6, 3, padding=1, bias=False), torch.nn.BatchNorm1d(6), torch.nn.ReLU(), torch.nn.Conv1d(6, 2, 1)
    )
    model.train()
    for _ in range(3):
        model(torch.rand(8, 4, 20))
    model.eval()
    fused = fuse_batchnorm(model)
    x = torch.rand(5, 4, 20)
    with torch.inference_mode():
        assert torch.allclose(model(x), fused(x), atol=1e-5)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in fused.modules())
    assert isinstance(fused[0], torch.nn.Conv1d) and fused[0].bias is not None


def test_ones_are_not_taken_for_slivers(recognizer, mnist_test) -> None:  # type: ignore[no-untyped-def]
    # Seam cuts leave thin slivers that look like 1s; the CNN must still read real 1s as digits
    # (the shipped weights reject about 1 % of MNIST test 1s as "not a digit").
    ones = list(mnist_test.images[mnist_test.labels == 1])
    probs = recognizer.classifier.classify_crops(ones)
    assert float((probs.argmax(axis=1) == NOT_A_DIGIT).mean()) <= 0.02
