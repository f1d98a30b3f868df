"""Train the line model (CTC) on lines of MNIST training digits cut out by the real segmenter.

Run it as ``seqdigits train-lines`` (see ``--help``). Every line is generated, most of them
photographed, binarized and segmented exactly as the recognizer does it, and the layout's
writing goes through :func:`classifier.preprocess.normalize_line`, the function inference
applies. The digits ``seqdigits train`` holds out are held out here too.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from tqdm import tqdm

from classifier.line_model import (
    BLANK,
    LINE_FORMAT,
    STRIDE,
    LineEnsemble,
    LineNet,
    batch_lines,
    checkpoint_shape,
    encode_texts,
    ensemble_candidates,
    ensemble_log_likelihoods,
    load_line_ensemble,
    save_line_checkpoint,
    write_line_ensemble,
)
from classifier.model import channels_last
from classifier.predict import CheckpointError, load_weights, read_payload
from classifier.preprocess import LineConfig, normalize_line
from classifier.train import held_out_split, lbfgs_minimize, minimize_temperature, run_jobs, segmented_line, split_train
from datasets.mnist import load_mnist
from datasets.synth import LineGenerator
from segmentation import binarize, propose

__all__ = [
    "EnsembleFitConfig", "EnsembleFitResult", "LineTrainConfig", "LineTrainResult", "build_lines", "calibration_error", "fit_calibration",
    "fit_ensemble", "train_lines",
]


@dataclass(frozen=True, slots=True)
class LineTrainConfig:
    """Everything a line-model training run depends on; stored in the checkpoint's metrics."""

    data_dir: str | None = None
    """MNIST directory; None uses ``$SEQDIGITS_DATA`` or the cache (see ``datasets.mnist``)."""
    output: str = "classifier/weights/linenet.pt"
    lines: int = 60000
    """Training lines of 1-9 digits (gap kinds, breaks, furniture and photo conditions as the
    digit CNN's segmented lines)."""
    epochs: float = 5.0
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    width: int = 32
    hidden: int = 128
    stride: int = STRIDE
    """Input columns per output frame: 4, or 2 (twice the frames over a narrow digit, for
    repeated digits that touch, such as "11": CTC needs a blank frame between the two)."""
    init: str | None = None
    """A line-model checkpoint to start from (fine-tuning): its weights, width, hidden size and
    stride replace ``width``, ``hidden`` and ``stride``; None starts from random weights."""
    pens: float = 0.0
    """Share of the training lines written with another pen (see :func:`classifier.train.segmented_line`)."""
    stretch: float = 0.2
    """Random horizontal stretch of a training line, +- this fraction (writers space and size differently)."""
    validation_lines: int = 1000
    """Lines of the held-out training digits: fit the temperature, report accuracy."""
    test_lines: int = 1000
    """Lines of MNIST test digits, for the report only."""
    validation: int = 5000
    """Held-out training digits; the same ones ``seqdigits train`` holds out at the same seed."""
    seed: int = 0
    split_seed: int = 0
    """Seed of the held-out digits' draw. Models of an ensemble differ in ``seed`` but hold out
    the same digits, so none of them has trained on the digits that fit and judge the ensemble."""
    threads: int = 0
    """Torch threads and line-building processes; 0 means all cores."""
    download: bool = False


@dataclass(frozen=True, slots=True)
class LineTrainResult:
    path: str
    validation_accuracy: float
    test_accuracy: float
    temperature: float
    seconds: float
    metrics: dict[str, Any]


#: Digits per training line, fewest and most: postal codes, house numbers and longer fields.
LENGTHS = (1, 9)


def _lines_chunk(args: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], int, int, dict[str, Any], float]) -> list[tuple[npt.NDArray[np.uint8], str]]:
    images, labels, count, seed, config_dict, pens = args
    config = LineConfig.from_dict(config_dict)
    generator = LineGenerator(images, labels, seed=seed)
    out = []
    for _ in range(count):
        gray, line, _ = segmented_line(generator, lengths=LENGTHS, pens=pens)
        layout = propose(binarize(gray))
        image = normalize_line(layout.atoms, layout.line_height, config)
        if image is not None:
            out.append((image, line.text))
    return out


def build_lines(
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.int64],
    *,
    lines: int,
    config: LineConfig,
    seed: int,
    workers: int,
    chunk: int = 500,
    pens: float = 0.0,
) -> list[tuple[npt.NDArray[np.uint8], str]]:
    """Generated lines as the line model sees them: (uint8 (height, W), text) pairs. Chunks get
    their own seeds, so the result does not depend on the number of workers. A line the
    segmenter finds no writing in is left out. ``pens``: share written with another pen."""
    jobs = [(images, labels, min(chunk, lines - s), seed * 1_000_003 + s, config.to_dict(), pens) for s in range(0, lines, chunk)]
    return [item for part in run_jobs(_lines_chunk, jobs, workers) for item in part]


def _logits(model: LineNet, items: list[tuple[npt.NDArray[np.uint8], str]], batch: int = 200) -> list[torch.Tensor]:
    model.eval()
    out = []
    with torch.inference_mode():
        for s in range(0, len(items), batch):
            x, lengths = batch_lines([image for image, _ in items[s : s + batch]], model.stride)
            logits = model(x.contiguous(memory_format=torch.channels_last), lengths)
            out += [logits[i, : int(n)] for i, n in enumerate(lengths)]
    return out


def _greedy(logits: torch.Tensor) -> str:
    best = logits.argmax(-1).tolist()
    return "".join(str(c - 1) for k, c in enumerate(best) if c != BLANK and (k == 0 or c != best[k - 1]))


def _accuracy(logits: list[torch.Tensor], items: list[tuple[npt.NDArray[np.uint8], str]]) -> float:
    return sum(_greedy(lg) == text for lg, (_, text) in zip(logits, items)) / max(1, len(items))


def _ctc(logits: torch.Tensor, lengths: torch.Tensor, texts: list[str], reduction: str = "mean") -> torch.Tensor:
    targets, target_lengths = encode_texts(texts)
    log_probs = F.log_softmax(logits, dim=-1).transpose(0, 1)
    return F.ctc_loss(log_probs, targets, lengths, target_lengths, blank=BLANK, reduction=reduction, zero_infinity=True)


def _fit_line_temperature(logits: list[torch.Tensor], texts: list[str]) -> float:
    """Temperature T minimizing the held-out CTC negative log-likelihood of softmax(logits / T)."""
    padded = torch.nn.utils.rnn.pad_sequence(logits, batch_first=True)
    lengths = torch.tensor([len(lg) for lg in logits])
    return minimize_temperature(lambda t: _ctc(padded / t, lengths, texts, reduction="sum"))


def _stretched(image: npt.NDArray[np.uint8], factor: float) -> npt.NDArray[np.uint8]:
    size = (max(8, round(image.shape[1] * factor)), image.shape[0])
    return cast("npt.NDArray[np.uint8]", cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def _starting_point(config: LineTrainConfig, line_config: LineConfig) -> dict[str, Any] | None:
    """The checkpoint ``config.init`` names (None without one), once it is known to fit this
    run: lines normalized as this version does, the same digits held out."""
    if config.init is None:
        return None
    payload = read_payload(config.init, LINE_FORMAT, what="line weights", kind="seqdigits line model")
    if LineConfig.from_dict(payload["line"]) != line_config:
        raise CheckpointError(f"{config.init} was trained on lines normalized otherwise than this version does")
    held_out = _held_out_seed(dict(payload.get("metrics", {})))
    if held_out is not None and held_out != config.split_seed:
        # Its training digits would include the ones this run holds out for judging.
        raise CheckpointError(f"{config.init} held out the digits of split seed {held_out}, not {config.split_seed}")
    return payload


def train_lines(config: LineTrainConfig = LineTrainConfig(), *, progress: bool = True) -> LineTrainResult:
    """Run one training; writes ``config.output`` and returns the measured figures."""
    start = time.perf_counter()
    threads = config.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    line_config = LineConfig()

    # The starting point is checked before the lines are built, which takes many minutes.
    initial = _starting_point(config, line_config)
    width, hidden, stride = (config.width, config.hidden, config.stride) if initial is None else checkpoint_shape(initial)
    # Made before the lines are built, so that a bad stride is refused before those minutes.
    model = LineNet(width=width, hidden=hidden, stride=stride)
    if initial is not None:
        load_weights(model, initial, what="line weights")
    train_split = load_mnist("train", config.data_dir, download=config.download)
    test_split = load_mnist("test", config.data_dir, download=config.download)
    val_idx, fit_idx = held_out_split(len(train_split), config.validation, rng, seed=config.seed, split_seed=config.split_seed)
    with tqdm(total=3, desc="building lines", unit="set", disable=not progress) as bar:
        fit = build_lines(
            train_split.images[fit_idx], train_split.labels[fit_idx], lines=config.lines, config=line_config, seed=config.seed + 11, workers=threads, pens=config.pens
        )
        bar.update(1)
        val = build_lines(train_split.images[val_idx], train_split.labels[val_idx], lines=config.validation_lines, config=line_config, seed=config.seed + 12, workers=threads)
        bar.update(1)
        test = build_lines(test_split.images, test_split.labels, lines=config.test_lines, config=line_config, seed=config.seed + 13, workers=threads)
        bar.update(1)

    # Channels-last, as inference runs it: the training loop goes about 1.3x as fast.
    channels_last(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    # Batches of lines of similar width: little padding, so little wasted work.
    order = np.argsort([image.shape[1] for image, _ in fit], kind="stable")
    batches = [order[s : s + config.batch_size] for s in range(0, len(order), config.batch_size)]
    total_steps = max(1, int(config.epochs * len(batches)))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.learning_rate, total_steps=total_steps, pct_start=0.1)

    step = 0
    with tqdm(total=total_steps, desc="training", unit="batch", disable=not progress) as bar:
        while step < total_steps:
            model.train()
            for b in rng.permutation(len(batches)):
                if step >= total_steps:
                    break
                items = [fit[i] for i in batches[b]]
                stretch = rng.uniform(1.0 - config.stretch, 1.0 + config.stretch, len(items))
                x, lengths = batch_lines([_stretched(image, f) for (image, _), f in zip(items, stretch)], stride)
                x = x.contiguous(memory_format=torch.channels_last)
                loss = _ctc(model(x, lengths), lengths, [text for _, text in items])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                optimizer.step()
                scheduler.step()
                step += 1
                bar.update(1)
                if step % 50 == 0:
                    bar.set_postfix(loss=f"{loss.item():.3f}")

    val_logits = _logits(model, val)
    temperature = _fit_line_temperature(val_logits, [text for _, text in val])
    validation_accuracy = _accuracy(val_logits, val)
    test_accuracy = _accuracy(_logits(model, test), test)
    seconds = time.perf_counter() - start
    metrics = {
        "validation_sequence_accuracy": validation_accuracy,
        "test_sequence_accuracy": test_accuracy,
        "temperature": temperature,
        "training_lines": len(fit),
        "training_seconds": round(seconds, 1),
        "threads": threads,
        "config": asdict(config),
    }
    if initial is not None:
        # Where it started: the starting model's own record (its seed, lines, accuracy), since
        # the file ``init`` names may later hold another model.
        metrics["init_metrics"] = dict(initial.get("metrics", {}))
    save_line_checkpoint(config.output, model, config=line_config, temperature=temperature, metrics=metrics)
    return LineTrainResult(
        path=str(Path(config.output)),
        validation_accuracy=validation_accuracy,
        test_accuracy=test_accuracy,
        temperature=temperature,
        seconds=seconds,
        metrics=metrics,
    )


@dataclass(frozen=True, slots=True)
class EnsembleFitConfig:
    """What fitting an ensemble's temperature depends on; stored in the ensemble file."""

    models: tuple[str, ...]
    """Line-model checkpoints, all trained with the same held-out digits (``split_seed``)."""
    data_dir: str | None = None
    output: str = "classifier/weights/linenets.json"
    lines: int = 2000
    """Lines of the held-out training digits: fit the temperature, report accuracy."""
    test_lines: int = 1000
    """Lines of MNIST test digits, for the report only."""
    validation: int = 5000
    split_seed: int = 0
    """The held-out digits: the same draw as ``seqdigits train-lines --split-seed``."""
    calibration_lines: int = 1000
    """Lines of 3-7 held-out digits, most photographed, read by the whole recognizer to fit its
    readings' calibration (see :class:`~classifier.line_model.LineEnsemble`); 0 leaves it (1, 0)."""
    digit_weights: str | None = None
    """The digit CNN those readings are made with (None: the packaged one)."""
    seed: int = 0
    threads: int = 0
    download: bool = False


@dataclass(frozen=True, slots=True)
class EnsembleFitResult:
    path: str
    temperature: float
    validation_accuracy: float
    test_accuracy: float
    member_validation_accuracy: tuple[float, ...]
    member_test_accuracy: tuple[float, ...]
    metrics: dict[str, Any]
    calibration: tuple[float, float] = (1.0, 0.0)


def _held_out_seed(metrics: dict[str, Any]) -> int | None:
    """The seed of the digits a line model held out, as its checkpoint records it (None: not recorded)."""
    config = metrics.get("config")
    if not isinstance(config, dict) or "seed" not in config:
        return None
    return int(config["split_seed"] if "split_seed" in config else config["seed"])


def _mixture_nll(log_probs: list[torch.Tensor], lengths: list[torch.Tensor], texts: list[str], temperature: torch.Tensor) -> torch.Tensor:
    """Summed negative log-likelihood of ``texts`` under the even mixture of the models whose
    (N, frames, 11) log-probabilities are given, each sharpened by 1 / ``temperature``;
    ``lengths``: each model's (N,) frame counts (models of other strides have other counts)."""
    targets, target_lengths = encode_texts(texts)
    each = torch.stack([
        -F.ctc_loss(F.log_softmax(lp / temperature, dim=-1).transpose(0, 1), targets, n, target_lengths, blank=BLANK, reduction="none")
        for lp, n in zip(log_probs, lengths)
    ])
    return -(torch.logsumexp(each, dim=0) - np.log(len(log_probs))).sum()


def calibration_error(confidences: npt.NDArray[np.float64], right: npt.NDArray[np.bool_], *, bins: int = 10) -> float:
    """Expected calibration error: over ``bins`` equal-width bins of confidence, the mean gap
    between confidence and the share right, weighted by the bin's share of the readings."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidences, side="right") - 1, 0, bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += float(inside.mean()) * abs(float(confidences[inside].mean()) - float(right[inside].mean()))
    return error


def fit_calibration(confidences: npt.NDArray[np.float64], right: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """(scale, shift) of sigmoid(scale * logit(p) + shift) minimizing the negative
    log-likelihood of ``right`` (Platt scaling on the log-odds); (1, 0) if the search fails."""
    p = np.clip(confidences, 1e-6, 1.0 - 1e-6)
    x = torch.from_numpy(np.log(p) - np.log1p(-p))
    y = torch.from_numpy(right.astype(np.float64))
    # (log scale, shift): the scale stays positive.
    found = lbfgs_minimize(
        lambda v: F.binary_cross_entropy_with_logits(v[0].exp() * x + v[1], y), torch.zeros(2, dtype=torch.float64), lr=0.5, max_iter=200
    )
    scale, shift = float(found[0].exp().item()), float(found[1].item())
    return (scale, shift) if math.isfinite(scale) and scale > 0 and math.isfinite(shift) else (1.0, 0.0)


def _calibration(
    ensemble: LineEnsemble, images: npt.NDArray[np.uint8], labels: npt.NDArray[np.int64], config: EnsembleFitConfig, *, progress: bool
) -> tuple[tuple[float, float], dict[str, Any]]:
    """Read lines of the held-out digits with the whole recognizer and fit its calibration."""
    from classifier.predict import DigitClassifier
    from seqdigits.recognizer import Recognizer

    recognizer = Recognizer(DigitClassifier.load(config.digit_weights), line_reader=ensemble)
    generator = LineGenerator(images, labels, seed=config.seed + 25)
    confidences, right = [], []
    for _ in tqdm(range(config.calibration_lines), desc="reading lines", unit="line", disable=not progress):
        gray, line, _ = segmented_line(generator, lengths=(3, 7))
        reading = recognizer.read(gray)
        confidences.append(reading.confidence)
        right.append(reading.text == line.text)
    conf, ok = np.array(confidences, np.float64), np.array(right, bool)
    calibration = fit_calibration(conf, ok)
    tuned = LineEnsemble(ensemble.readers, ensemble.temperature, calibration=calibration)
    calibrated = np.array([tuned.calibrate(float(c)) for c in conf])
    return calibration, {
        "calibration_lines": int(conf.size),
        "calibration_accuracy": float(ok.mean()),
        "calibration_mean_confidence_before": float(conf.mean()),
        "calibration_mean_confidence_after": float(calibrated.mean()),
        "calibration_error_before": calibration_error(conf, ok),
        "calibration_error_after": calibration_error(calibrated, ok),
    }


def fit_ensemble(config: EnsembleFitConfig, *, progress: bool = True) -> EnsembleFitResult:
    """Fit the temperature of an ensemble of line models on lines of held-out training digits
    (minimum mixture negative log-likelihood) and write the ensemble file ``config.output``.
    Raises ValueError for models that held out other digits or normalize lines differently."""
    start = time.perf_counter()
    threads = config.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    ensemble = load_line_ensemble(list(config.models))
    for path, reader in zip(config.models, ensemble.readers):
        held_out = _held_out_seed(reader.metrics)
        if held_out is not None and held_out != config.split_seed:
            raise ValueError(f"{path} held out the digits of split seed {held_out}, not {config.split_seed}: it trained on digits the fit needs unseen")
    line_config = ensemble.readers[0].config
    if any(reader.config != line_config for reader in ensemble.readers):
        raise ValueError("the models normalize lines differently; an ensemble's models must share their line normalization")

    train_split = load_mnist("train", config.data_dir, download=config.download)
    test_split = load_mnist("test", config.data_dir, download=config.download)
    val_idx, _ = split_train(len(train_split), config.validation, np.random.default_rng(config.split_seed))
    with tqdm(total=2, desc="building lines", unit="set", disable=not progress) as bar:
        val = build_lines(train_split.images[val_idx], train_split.labels[val_idx], lines=config.lines, config=line_config, seed=config.seed + 21, workers=threads)
        bar.update(1)
        test = build_lines(test_split.images, test_split.labels, lines=config.test_lines, config=line_config, seed=config.seed + 23, workers=threads)
        bar.update(1)

    def per_line(items: list[tuple[npt.NDArray[np.uint8], str]], sharpen: float, batch: int = 200) -> list[list[npt.NDArray[np.float64]]]:
        # In batches: one forward pass pads every line to the widest, and memory grows with both.
        images = [image for image, _ in items]
        per_model = [
            [lp for s in range(0, len(images), batch) for lp in reader.log_probs(images[s : s + batch], sharpen=sharpen)]
            for reader in ensemble.readers
        ]
        return [list(lps) for lps in zip(*per_model)]

    val_lp = per_line(val, 1.0)
    texts = [text for _, text in val]
    each = [ensemble_log_likelihoods(lps, [text]) for lps, text in zip(val_lp, texts)]
    # A text too long for its line's frames is impossible at any temperature: left out of the fit.
    usable = [i for i, ll in enumerate(each) if np.isfinite(ll[0])]
    lengths = [torch.tensor([len(val_lp[i][k]) for i in usable]) for k in range(len(ensemble.readers))]
    stacked = [
        torch.nn.utils.rnn.pad_sequence([torch.from_numpy(val_lp[i][k]) for i in usable], batch_first=True)
        for k in range(len(ensemble.readers))
    ]
    fit_texts = [texts[i] for i in usable]
    temperature = minimize_temperature(lambda t: _mixture_nll(stacked, lengths, fit_texts, t.double()))
    with torch.no_grad():
        nll_before = float(_mixture_nll(stacked, lengths, fit_texts, torch.tensor(1.0, dtype=torch.float64))) / len(usable)
        nll_after = float(_mixture_nll(stacked, lengths, fit_texts, torch.tensor(temperature, dtype=torch.float64))) / len(usable)

    def accuracy(items: list[tuple[npt.NDArray[np.uint8], str]], lps_per_line: list[list[npt.NDArray[np.float64]]], members: list[int]) -> float:
        right = 0
        for (_, text), lps in zip(items, lps_per_line):
            chosen = [lps[k] for k in members]
            candidates = ensemble_candidates(chosen)
            scores = ensemble_log_likelihoods(chosen, candidates)
            right += bool(candidates) and candidates[int(np.argmax(scores))] == text
        return right / max(1, len(items))

    val_sharp, test_sharp = per_line(val, temperature), per_line(test, temperature)
    everyone = list(range(len(ensemble.readers)))
    validation_accuracy, test_accuracy = accuracy(val, val_sharp, everyone), accuracy(test, test_sharp, everyone)
    test_plain = per_line(test, 1.0)
    member_validation = tuple(accuracy(val, val_lp, [k]) for k in everyone)
    member_test = tuple(accuracy(test, test_plain, [k]) for k in everyone)
    calibration: tuple[float, float] = (1.0, 0.0)
    calibration_figures: dict[str, Any] = {}
    if config.calibration_lines > 0:
        calibration, calibration_figures = _calibration(
            LineEnsemble(ensemble.readers, temperature), train_split.images[val_idx], train_split.labels[val_idx], config, progress=progress
        )
    seconds = time.perf_counter() - start
    metrics = {
        "validation_sequence_accuracy": validation_accuracy,
        "test_sequence_accuracy": test_accuracy,
        "member_validation_sequence_accuracy": list(member_validation),
        "member_test_sequence_accuracy": list(member_test),
        "temperature": temperature,
        "nll_per_line_at_temperature_1": nll_before,
        "nll_per_line_fitted": nll_after,
        "fit_lines": len(usable),
        "calibration": list(calibration),
        **calibration_figures,
        "seconds": round(seconds, 1),
        "config": {**asdict(config), "models": list(config.models)},
    }
    write_line_ensemble(config.output, config.models, temperature=temperature, metrics=metrics, calibration=calibration)
    return EnsembleFitResult(
        path=str(Path(config.output)),
        temperature=temperature,
        validation_accuracy=validation_accuracy,
        test_accuracy=test_accuracy,
        member_validation_accuracy=member_validation,
        member_test_accuracy=member_test,
        metrics=metrics,
        calibration=calibration,
    )
