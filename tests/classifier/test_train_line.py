from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from classifier.line_model import (
    LineNet,
    LineReader,
    ensemble_log_likelihoods,
    load_line_ensemble,
    save_line_checkpoint,
)
from classifier.predict import CheckpointError
from classifier.preprocess import LineConfig
from classifier.train_line import (
    EnsembleFitConfig,
    LineTrainConfig,
    _mixture_nll,
    calibration_error,
    fit_calibration,
    fit_ensemble,
    train_lines,
)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def test_the_fit_loss_is_the_ensembles_own_likelihood() -> None:
    rng = np.random.default_rng(9)
    # The second model reads at stride 2: twice the frames of the first for the same lines.
    models = [_log_softmax(rng.normal(0.0, 2.0, (3, 6, 11))), _log_softmax(rng.normal(0.0, 2.0, (3, 12, 11)))]
    texts, lengths = ["12", "3", "455"], [torch.tensor([6, 4, 6]), torch.tensor([12, 7, 11])]
    stacked = [torch.from_numpy(m) for m in models]
    for t in (1.0, 0.7):
        loss = float(_mixture_nll(stacked, lengths, texts, torch.tensor(t, dtype=torch.float64)))
        sharp = [_log_softmax(m / t) for m in models]
        expected = -sum(
            ensemble_log_likelihoods([s[i, : int(n[i])] for s, n in zip(sharp, lengths)], [text])[0] for i, text in enumerate(texts)
        )
        assert loss == pytest.approx(expected, rel=1e-9)


def _checkpoints(folder, split_seeds, strides=None):  # type: ignore[no-untyped-def]
    torch.manual_seed(5)
    paths = []
    for k, split_seed in enumerate(split_seeds):
        paths.append(folder / f"line{k}.pt")
        metrics = {"config": {"seed": k, "split_seed": split_seed}}
        model = LineNet(width=8, hidden=16, stride=strides[k] if strides else 4)
        save_line_checkpoint(paths[-1], model, config=LineConfig(), temperature=1.0, metrics=metrics)
    return paths


def test_fit_ensemble_writes_a_file_the_recognizer_loads(mnist_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Models of both strides: each line's frames are counted per model.
    paths = _checkpoints(tmp_path, [0, 0], strides=[4, 2])
    config = EnsembleFitConfig(
        models=tuple(map(str, paths)), data_dir=str(mnist_dir), output=str(tmp_path / "lines.json"), lines=40, test_lines=10, calibration_lines=12, threads=1
    )
    result = fit_ensemble(config, progress=False)
    document = json.loads((tmp_path / "lines.json").read_text())
    assert document["models"] == ["line0.pt", "line1.pt"]
    assert document["temperature"] == result.temperature > 0.0
    metrics = document["metrics"]
    assert metrics["nll_per_line_fitted"] <= metrics["nll_per_line_at_temperature_1"]
    assert 0 < metrics["fit_lines"] <= 40 and metrics["config"]["models"] == [str(p) for p in paths]
    assert len(result.member_validation_accuracy) == 2
    ensemble = load_line_ensemble(tmp_path / "lines.json")
    assert ensemble.temperature == result.temperature and [r.model.stride for r in ensemble.readers] == [4, 2]
    # The readings' calibration, fitted on lines the whole recognizer read, travels in the file.
    assert ensemble.calibration == result.calibration == tuple(metrics["calibration"]) and result.calibration[0] > 0
    assert metrics["calibration_lines"] == 12 and 0.0 <= metrics["calibration_accuracy"] <= 1.0


def test_fit_calibration_finds_the_map_that_made_the_outcomes() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.02, 0.98, 40000)
    truth = 1.0 / (1.0 + np.exp(-(2.0 * np.log(p / (1 - p)) + 0.5)))
    right = rng.random(p.size) < truth
    scale, shift = fit_calibration(p, right)
    assert scale == pytest.approx(2.0, abs=0.1) and shift == pytest.approx(0.5, abs=0.05)
    calibrated = 1.0 / (1.0 + np.exp(-(scale * np.log(p / (1 - p)) + shift)))
    assert calibration_error(calibrated, right) < 0.02 < calibration_error(p, right)


def test_calibration_error_by_hand() -> None:
    confidences = np.array([0.95, 0.95, 0.55, 0.55, 0.15])
    right = np.array([True, False, True, True, False])
    # Bins [0.9, 1): 0.95 vs 1/2; [0.5, 0.6): 0.55 vs 1; [0.1, 0.2): 0.15 vs 0.
    assert calibration_error(confidences, right) == pytest.approx(0.4 * 0.45 + 0.4 * 0.45 + 0.2 * 0.15)


def test_fit_ensemble_refuses_models_that_trained_on_the_fits_digits(mnist_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = _checkpoints(tmp_path, [0, 1])
    config = EnsembleFitConfig(models=tuple(map(str, paths)), data_dir=str(mnist_dir), output=str(tmp_path / "lines.json"), lines=40, threads=1)
    with pytest.raises(ValueError, match="split seed 1, not 0"):
        fit_ensemble(config, progress=False)
    assert not (tmp_path / "lines.json").exists()


def test_a_small_line_training_runs_to_a_checkpoint_the_reader_loads(mnist_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = LineTrainConfig(
        data_dir=str(mnist_dir), output=str(tmp_path / "line.pt"), lines=48, epochs=1.0, batch_size=16, width=8, hidden=16, stride=2,
        validation_lines=12, test_lines=12, seed=3, split_seed=0, threads=1,
    )
    result = train_lines(config, progress=False)
    reader = LineReader.load(tmp_path / "line.pt")
    assert reader.model.stride == 2 and reader.log_probs([np.zeros((32, 40), np.uint8)])[0].shape == (20, 11)
    assert reader.temperature == result.temperature > 0.0
    assert reader.metrics["config"]["seed"] == 3 and reader.metrics["config"]["split_seed"] == 0
    assert 0.0 <= result.validation_accuracy <= 1.0 and 0.0 <= result.test_accuracy <= 1.0


def test_fine_tuning_starts_from_the_checkpoints_weights_and_size(mnist_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (start,) = _checkpoints(tmp_path, [0], strides=[2])
    # A learning rate of 0 leaves every weight where the checkpoint put it; only BatchNorm's
    # running statistics, which are no parameters, move.
    config = LineTrainConfig(
        data_dir=str(mnist_dir), output=str(tmp_path / "tuned.pt"), lines=32, epochs=1.0, batch_size=16, learning_rate=0.0,
        validation_lines=8, test_lines=8, seed=4, split_seed=0, threads=1, init=str(start), pens=0.5,
    )
    train_lines(config, progress=False)
    before, after = torch.load(start, weights_only=True), torch.load(tmp_path / "tuned.pt", weights_only=True)
    assert (after["width"], after["hidden"], after["stride"]) == (8, 16, 2)
    names = [name for name, _ in LineNet(width=8, hidden=16).named_parameters()]
    assert names and all(torch.equal(before["state_dict"][n], after["state_dict"][n]) for n in names)
    assert after["metrics"]["config"]["init"] == str(start) and after["metrics"]["config"]["pens"] == 0.5
    assert after["metrics"]["init_metrics"] == before["metrics"] == {"config": {"seed": 0, "split_seed": 0}}


def test_a_stride_other_than_2_or_4_is_refused_before_any_line_is_built(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # No MNIST directory: the refusal comes before the digits are even loaded.
    config = LineTrainConfig(data_dir=str(tmp_path / "nowhere"), output=str(tmp_path / "line.pt"), stride=3, threads=1)
    with pytest.raises(ValueError, match="stride is one of"):
        train_lines(config, progress=False)
    assert not (tmp_path / "line.pt").exists()


def test_fine_tuning_refuses_a_model_that_trained_on_the_held_out_digits(mnist_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (start,) = _checkpoints(tmp_path, [1])
    config = LineTrainConfig(data_dir=str(mnist_dir), output=str(tmp_path / "tuned.pt"), lines=16, validation_lines=4, test_lines=4, threads=1, init=str(start))
    with pytest.raises(CheckpointError, match="split seed 1, not 0"):
        train_lines(config, progress=False)
    assert not (tmp_path / "tuned.pt").exists()
