"""Train the digit CNN on MNIST train, calibrate it, evaluate it on MNIST test, save a checkpoint.

Run it as ``seqdigits train`` (see ``seqdigits train --help``). Every training
sample, clean or distorted, goes through :func:`classifier.preprocess.normalize_digit`
- the function inference applies to segmented crops.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from tqdm import tqdm

from classifier.augment import augment_digit, make_fragment, make_pair, make_scribble
from classifier.model import NOT_A_DIGIT, DigitNet, channels_last
from classifier.predict import save_checkpoint
from classifier.preprocess import PreprocessConfig, estimate_stroke_width, normalize_digit
from datasets.mnist import load_mnist
from datasets.photo import photograph
from datasets.synth import LineGenerator, SyntheticLine, weighted_choice
from segmentation import Box, binarize, propose
from seqdigits.image import load_image

T = TypeVar("T")

__all__ = [
    "PEN_CHANGES", "TrainConfig", "TrainResult", "build_pool", "evaluate", "fit_temperature", "held_out_split", "lbfgs_minimize", "minimize_temperature", "run_jobs",
    "segmented_line", "split_train", "train",
]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Everything a training run depends on; stored in the checkpoint's metrics."""

    data_dir: str | None = None
    """MNIST directory; None uses ``$SEQDIGITS_DATA`` or the cache (see ``datasets.mnist``)."""
    output: str = "classifier/weights/digitnet.pt"
    epochs: float = 3.0
    """Passes over the sample pool (clean + distorted + reject samples)."""
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.05
    width: int = 32
    distorted_copies: int = 2
    """Distorted copies of each training digit, on top of the clean one."""
    reject_fraction: float = 0.12
    """Reject-class samples, as a fraction of the training digits."""
    segmented_lines: int = 5000
    """Lines of 2-6 training digits (touching, overlapping, kissing, separated, wide, mixed; some with
    broken strokes, form furniture, most photographed) run through the real segmenter: its
    candidate crops become digit samples (when they match one digit) or reject samples (when
    they hold parts of several), so the CNN learns what cuts really produce."""
    validation: int = 5000
    """Training digits held out to fit the temperature and watch overfitting."""
    seed: int = 0
    split_seed: int = 0
    """Seed of the held-out digits' draw (:func:`held_out_split`): the line models' and the
    validation photos' held-out digits are those of split seed 0."""
    threads: int = 0
    """Torch threads and pool-building processes; 0 means all cores."""
    download: bool = False


@dataclass(frozen=True, slots=True)
class TrainResult:
    path: str
    test_accuracy: float
    validation_accuracy: float
    temperature: float
    seconds: float
    metrics: dict[str, Any]


def _normalize_chunk(args: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], str, int, dict[str, Any]]) -> npt.NDArray[np.uint8]:
    images, labels, kind, seed, config_dict = args
    config = PreprocessConfig.from_dict(config_dict)
    rng = np.random.default_rng(seed)
    out = np.zeros((len(images), config.frame, config.frame), np.uint8)
    for i, image in enumerate(images):
        if kind == "clean":
            raw = image
        elif kind == "distorted":
            raw = augment_digit(image, rng)
        else:  # reject: pairs, fragments of wide non-1 digits, stray marks
            roll = rng.random()
            if roll < 0.6:
                raw = make_pair(image, images[int(rng.integers(len(images)))], rng)
            elif roll < 0.85 and labels[i] != 1:
                raw = make_fragment(image, rng)
            else:
                raw = make_scribble(rng)
        out[i] = np.round(normalize_digit(raw, config) * 255.0).astype(np.uint8)
    return out


def run_jobs(function: Callable[[Any], T], jobs: list[Any], workers: int) -> list[T]:
    """``function`` over ``jobs`` in order, in ``workers`` processes (in this one when 1)."""
    if workers <= 1:
        return [function(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, jobs))


def _covers(candidate: Box, digit: Box) -> float:
    ix = max(0, min(candidate.right, digit.right) - max(candidate.x, digit.x))
    iy = max(0, min(candidate.bottom, digit.bottom) - max(candidate.y, digit.y))
    return ix * iy / max(1, digit.width * digit.height)


#: Gap kinds of the lines cut for training, with their shares.
_SEGMENTED_GAPS: tuple[tuple[str, float], ...] = (
    ("touching", 0.25), ("overlapping", 0.15), ("kissing", 0.1), ("separated", 0.2), ("wide", 0.05), ("mixed", 0.25),
)
#: Share of the segmenter's reject crops kept: cuts make about two pieces that are no digit
#: for every one that is, and the digits are what the CNN must not miss.
_REJECT_KEEP = 0.4


#: Pen-width changes (px of the rendered digit, see ``SynthConfig.stroke``) drawn for the share
#: ``pens`` of :func:`segmented_line`'s lines: a finer pen, and markers up to 6 px wider.
PEN_CHANGES: tuple[int, ...] = (-1, 1, 2, 3)


def segmented_line(
    generator: LineGenerator, *, lengths: tuple[int, int] = (2, 6), pens: float = 0.0
) -> tuple[npt.NDArray[np.uint8], SyntheticLine, bool]:
    """A random line of ``lengths`` (fewest, most) digits as the recognizer would see it
    (gray, uint8 (H, W)), its truth, and whether it carries form furniture. Most are
    photographed: ink colour, light, blur, noise, JPEG and tilt, the conditions the segmenter
    must cut in. A share ``pens`` of the lines is written with another pen than MNIST's
    (:data:`PEN_CHANGES`). Draws from the generator's rng; with ``pens`` 0 it draws exactly
    what it drew before the option existed, so earlier trainings reproduce."""
    rng = generator.rng
    gap = weighted_choice(rng, _SEGMENTED_GAPS)
    furniture = bool(rng.random() < 0.3)
    photographed = rng.random() < 0.6
    strength = float(rng.uniform(0.0, 1.0)) if photographed else 0.0
    tilt = 12.0 * strength
    length = int(rng.integers(lengths[0], lengths[1] + 1))
    breaks = 0.5 if rng.random() < 0.3 else 0.0
    pen: dict[str, Any] = {}
    if pens > 0.0 and rng.random() < pens:
        change = int(PEN_CHANGES[int(rng.integers(len(PEN_CHANGES)))])
        pen["stroke"] = (change, change)
    line = generator.line(length=length, gap=gap, breaks=breaks, furniture=1.0 if furniture else 0.0, rotation=(-tilt, tilt), **pen)
    if not photographed:
        return line.image, line, furniture
    return load_image(photograph(line, rng, strength=strength).image), line, furniture


def _segmented_chunk(args: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], int, int, dict[str, Any]]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    images, labels, lines, seed, config_dict = args
    config = PreprocessConfig.from_dict(config_dict)
    generator = LineGenerator(images, labels, seed=seed)
    crops: list[npt.NDArray[np.uint8]] = []
    targets: list[int] = []
    for _ in range(lines):
        gray, line, furniture = segmented_line(generator)
        layout = propose(binarize(gray))
        for cand in layout.candidates:
            ious = [cand.box.iou(b) for b in line.boxes]
            best = int(np.argmax(ious))
            covers = [_covers(cand.box, b) for b in line.boxes]
            if ious[best] >= 0.8:
                crops.append(cand.crop)
                targets.append(int(line.text[best]))
            elif furniture and max(covers) < 0.2:
                # A piece of a box or a rule on its own: its shape is a 1's or a dash's, only its
                # place tells it apart (the segmenter's job), so the CNN is not taught either way.
                continue
            elif cand.crop.shape[1] < 0.4 * cand.crop.shape[0]:
                # A thin sliver cut off a digit looks like a 1 once normalized: taught as "not a
                # digit" it would teach the CNN to reject real 1s. Geometry (the cuts' prior and
                # the rest of the path) decides about slivers, not the CNN.
                continue
            elif ious[best] < 0.35 or sum(c > 0.6 for c in covers) >= 2:
                if generator.rng.random() < _REJECT_KEEP:
                    crops.append(cand.crop)
                    targets.append(NOT_A_DIGIT)
            # In between, a crop is neither clearly one digit nor clearly none: no label.
    out = np.zeros((len(crops), config.frame, config.frame), np.uint8)
    for i, crop in enumerate(crops):
        out[i] = np.round(normalize_digit(crop, config) * 255.0).astype(np.uint8)
    return out, np.asarray(targets, np.int64)


def build_segmented(
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.int64],
    *,
    lines: int,
    config: PreprocessConfig,
    seed: int,
    workers: int,
    chunk: int = 250,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Samples cut by the real segmenter from generated lines: uint8 (N, 28, 28) and labels (N,)."""
    jobs = [(images, labels, min(chunk, lines - s), seed * 1_000_003 + s, config.to_dict()) for s in range(0, lines, chunk)]
    parts = run_jobs(_segmented_chunk, jobs, workers)
    if not parts:
        return np.zeros((0, config.frame, config.frame), np.uint8), np.zeros(0, np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def build_pool(
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.int64],
    *,
    kind: str,
    config: PreprocessConfig,
    seed: int,
    workers: int,
    chunk: int = 2000,
) -> npt.NDArray[np.uint8]:
    """Normalize (and for ``kind`` "distorted"/"reject", first distort) a set of digits.

    Returns uint8 (N, 28, 28). Chunks get their own seeds, so the result does
    not depend on the number of workers.
    """
    jobs = [
        (images[s : s + chunk], labels[s : s + chunk], kind, seed * 1_000_003 + s, config.to_dict())
        for s in range(0, len(images), chunk)
    ]
    parts = run_jobs(_normalize_chunk, jobs, workers)
    return np.concatenate(parts) if parts else np.zeros((0, config.frame, config.frame), np.uint8)


def _jitter(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Small random affine per sample (+-6 deg, +-10 % scale, +-1.5 px): imperfect crops."""
    n = batch.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(6)
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * 0.1
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (1.5 / 14)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return F.grid_sample(batch, grid, align_corners=False, padding_mode="zeros")


def _logits(model: DigitNet, images: npt.NDArray[np.uint8], batch: int = 1000) -> torch.Tensor:
    model.eval()
    outs = []
    with torch.inference_mode():
        for s in range(0, len(images), batch):
            x = torch.from_numpy(images[s : s + batch]).float().div_(255.0).unsqueeze(1)
            outs.append(model(x.contiguous(memory_format=torch.channels_last)))
    return torch.cat(outs)


def lbfgs_minimize(
    loss_at: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, *, lr: float, max_iter: int
) -> torch.Tensor:
    """The point (a 1-D tensor like ``start``) minimizing ``loss_at``, by L-BFGS from ``start``
    with a strong-Wolfe line search; ``start`` itself where the search ends on a non-finite point
    or on a loss that is not at most ``start``'s."""
    point = start.clone().requires_grad_(True)
    # Without a line search, one step on a steep loss (random or badly wrong models) overshot
    # to T ~ 1e-16, and 100 iterations crawled back only to a loss 10^10 times T = 1's.
    optimizer = torch.optim.LBFGS([point], lr=lr, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = loss_at(point)
        loss.backward()
        return loss

    optimizer.step(closure)
    found = point.detach()
    if not bool(torch.isfinite(found).all()):
        return start
    with torch.no_grad():
        return found if float(loss_at(found)) <= float(loss_at(start)) else start


def minimize_temperature(loss_at: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """The temperature T > 0 minimizing ``loss_at(T)`` (a held-out negative log-likelihood of
    logits / T), by :func:`lbfgs_minimize` over log T; 1.0 if the search does not end on a
    finite T with a loss no higher than at 1.0."""
    log_t = lbfgs_minimize(lambda u: loss_at(u.exp()), torch.zeros(1), lr=0.1, max_iter=100)
    temperature = float(log_t.exp().item())
    return temperature if math.isfinite(temperature) and temperature > 0 else 1.0


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Temperature T minimizing the held-out negative log-likelihood of softmax(logits / T)."""
    return minimize_temperature(lambda t: F.cross_entropy(logits / t, labels))


def evaluate(logits: torch.Tensor, labels: npt.NDArray[np.int64]) -> dict[str, Any]:
    """Accuracy over the ten digits (reject column ignored), per class, and the confusion matrix."""
    digits = logits.clone()
    digits[:, NOT_A_DIGIT] = -math.inf
    predicted = digits.argmax(1).numpy()
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = (np.diag(confusion) / np.maximum(confusion.sum(1), 1)).tolist()
    return {
        "accuracy": float((predicted == labels).mean()),
        "per_class": [round(float(v), 5) for v in per_class],
        "confusion": confusion.tolist(),
        "rejected": float((logits.argmax(1).numpy() == NOT_A_DIGIT).mean()),
    }


def split_train(n: int, validation: int, rng: np.random.Generator) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Indices of MNIST train's held-out digits (the first ``validation`` of a permutation
    drawn from ``rng``) and of the digits to train on. Both models hold out the same digits
    when seeded alike, and the validation photos are built from those."""
    order = rng.permutation(n)
    return order[:validation], order[validation:]


def held_out_split(
    n: int, validation: int, rng: np.random.Generator, *, seed: int, split_seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """:func:`split_train` for a run seeded ``seed`` whose held-out digits are those of
    ``split_seed``. The draw is taken from ``rng`` (the run's own stream) whatever ``split_seed``
    is, so that the stream, and every model trained before ``split_seed`` existed, does not
    depend on it; where the seeds differ, the digits come from ``split_seed``'s draw."""
    val_idx, fit_idx = split_train(n, validation, rng)
    if split_seed != seed:
        val_idx, fit_idx = split_train(n, validation, np.random.default_rng(split_seed))
    return val_idx, fit_idx


def train(config: TrainConfig = TrainConfig(), *, progress: bool = True) -> TrainResult:
    """Run one training; writes ``config.output`` and returns the measured figures."""
    start = time.perf_counter()
    threads = config.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    train_split = load_mnist("train", config.data_dir, download=config.download)
    test_split = load_mnist("test", config.data_dir, download=config.download)
    val_idx, fit_idx = held_out_split(len(train_split), config.validation, rng, seed=config.seed, split_seed=config.split_seed)
    fit_x, fit_y = train_split.images[fit_idx], train_split.labels[fit_idx]

    # The stroke width normalization aims at, measured on the training digits themselves.
    widths = [estimate_stroke_width((im > 127).astype(np.uint8)) for im in fit_x[:5000]]
    preprocess = replace(PreprocessConfig(), stroke_width=round(float(np.median(widths)), 3))

    pools_x: list[npt.NDArray[np.uint8]] = []
    pools_y: list[npt.NDArray[np.int64]] = []
    steps = [("clean", 0)] + [("distorted", c + 1) for c in range(config.distorted_copies)]
    n_reject = int(config.reject_fraction * len(fit_x))
    total = len(fit_x) * len(steps) + n_reject + config.segmented_lines
    with tqdm(total=total, desc="preparing samples", unit="img", disable=not progress) as bar:
        for kind, copy in steps:
            pools_x.append(build_pool(fit_x, fit_y, kind=kind, config=preprocess, seed=config.seed + copy, workers=threads))
            pools_y.append(fit_y)
            bar.update(len(fit_x))
        pick = rng.choice(len(fit_x), n_reject, replace=False)
        pools_x.append(build_pool(fit_x[pick], fit_y[pick], kind="reject", config=preprocess, seed=config.seed + 99, workers=threads))
        pools_y.append(np.full(n_reject, NOT_A_DIGIT, np.int64))
        bar.update(n_reject)
        seg_x, seg_y = build_segmented(fit_x, fit_y, lines=config.segmented_lines, config=preprocess, seed=config.seed + 7, workers=threads)
        pools_x.append(seg_x)
        pools_y.append(seg_y)
        bar.update(config.segmented_lines)
        val_x = build_pool(train_split.images[val_idx], train_split.labels[val_idx], kind="clean", config=preprocess, seed=0, workers=threads)
        test_x = build_pool(test_split.images, test_split.labels, kind="clean", config=preprocess, seed=0, workers=threads)
    pool_x = torch.from_numpy(np.concatenate(pools_x))
    pool_y = torch.from_numpy(np.concatenate(pools_y))

    # Channels-last, as inference runs it: the training loop goes about 1.3x as fast.
    model = channels_last(DigitNet(width=config.width))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(pool_y) / config.batch_size)
    total_steps = max(1, int(config.epochs * steps_per_epoch))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.learning_rate, total_steps=total_steps)
    generator = torch.Generator().manual_seed(config.seed)

    step = 0
    with tqdm(total=total_steps, desc="training", unit="batch", disable=not progress) as bar:
        while step < total_steps:
            model.train()
            permutation = torch.randperm(len(pool_y), generator=generator)
            for s in range(0, len(permutation), config.batch_size):
                if step >= total_steps:
                    break
                idx = permutation[s : s + config.batch_size]
                x = _jitter(pool_x[idx].float().div_(255.0).unsqueeze(1), generator)
                x = x.contiguous(memory_format=torch.channels_last)
                loss = F.cross_entropy(model(x), pool_y[idx], label_smoothing=config.label_smoothing)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                step += 1
                bar.update(1)
                if step % 50 == 0:
                    bar.set_postfix(loss=f"{loss.item():.3f}")

    val_y = train_split.labels[val_idx]
    val_logits = _logits(model, val_x)
    temperature = fit_temperature(val_logits, torch.from_numpy(val_y))
    validation = evaluate(val_logits, val_y)
    test = evaluate(_logits(model, test_x), test_split.labels)
    seconds = time.perf_counter() - start
    metrics = {
        "mnist_test": test,
        "validation_accuracy": validation["accuracy"],
        "temperature": temperature,
        "training_seconds": round(seconds, 1),
        "threads": threads,
        "samples": int(len(pool_y)),
        "config": asdict(config),
    }
    save_checkpoint(config.output, model, width=config.width, preprocess=preprocess, temperature=temperature, metrics=metrics)
    return TrainResult(
        path=str(Path(config.output)),
        test_accuracy=test["accuracy"],
        validation_accuracy=validation["accuracy"],
        temperature=temperature,
        seconds=seconds,
        metrics=metrics,
    )
