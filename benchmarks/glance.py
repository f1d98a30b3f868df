"""Experiment: a whole-photo first glance, the one design measured near the speed target.

    # training photos from MNIST train (its 5 000 held-out digits left out), prepared as the
    # glance reads them; then train (the committed checkpoint: these two files, 100 minutes on
    # 2 cores; --resume goes on from a checkpoint, best with a lower --lr)
    python benchmarks/glance.py make --data ../shared/data/mnist --photos 80000 --seed 0 --out /tmp/glance-0.npz
    python benchmarks/glance.py make --data ../shared/data/mnist --photos 120000 --seed 1 --out /tmp/glance-1.npz
    python benchmarks/glance.py train --photos-file /tmp/glance-0.npz --photos-file /tmp/glance-1.npz \
        --minutes 100 --out benchmarks/glance/glance.pt
    # held-out photos (the held-out training digits, or MNIST test with --test-digits):
    # the glance alone, and the glance in front of the shipped pipeline at several thresholds
    python benchmarks/glance.py eval --data ../shared/data/mnist --checkpoint benchmarks/glance/glance.pt \
        --tesseract-every 7
    # its temperature, fitted on other held-out photos
    python benchmarks/glance.py eval --data ../shared/data/mnist --checkpoint benchmarks/glance/glance.pt \
        --lines 50 --seed 8000 --rows /tmp/glance-fit.json
    python benchmarks/glance.py temperature /tmp/glance-fit.json

The shipped reader takes about 30-40 ms a small photo; 30 times Tesseract's CLI leaves about 4
(see docs/notes.md, *Where a small photo's time is left*). No segmentation fits in that: this
network reads the whole photo, flattened and cropped to its ink and shrunk to 32 px tall, as one
CTC sequence (blank, the ten digits, the hyphen), in about 2.7 ms with decoding. Where it is sure
its reading could stand; elsewhere the pipeline reads. It is not shipped yet: its boxes, cut from
its CTC frames, fit worse than the pipeline's, and its confidence is not yet calibrated (see
docs/notes.md, *A first glance cropped to the ink*). The checkpoint is committed so that the
next steps start from it, and training can go on from it (``--resume``; ``--device cuda``).

A measurement script, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier.model import channels_last, fuse_batchnorm
from classifier.train import split_train
from datasets.mnist import load_mnist
from datasets.photo import photograph
from datasets.synth import LineGenerator, SynthConfig
from segmentation.types import Box
from seqdigits.image import load_gray

sys.path.insert(0, str(ROOT / "benchmarks"))
import run as benchmark

FORMAT = "seqdigits-glance/1"
#: Input rows; output frames are every STRIDE input columns.
HEIGHT, STRIDE = 32, 2
#: CTC classes: 0 blank, 1-10 the digits, 11 the hyphen.
ALPHABET = "0123456789-"
#: The working copy the ink is found on, px tall, and the background's window there (px).
PROBE, WINDOW = 64, 11
#: The widest input read, in columns (a line of about 20 digits at 32 px).
MAX_WIDTH = 640

#: The benchmark's seven kinds (benchmarks/run.py), its phone photos left out.
KINDS: dict[str, SynthConfig] = {**benchmark.KINDS, **{kind: config for kind, (config, _) in benchmark.FORMATS.items()}}


def prepare(gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The glance's input for a photo: uint8 (32, W) ink map (255 ink, 0 paper), W even.
    See :func:`_prepare`."""
    return _prepare(gray)[0]


def _prepare(gray: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], tuple[float, float, float, float]]:
    """:func:`prepare`'s input, and where it lies in ``gray``: (x, y, width, height) in px.

    ``gray``: uint8 (H, W) as :func:`seqdigits.image.load_gray` decodes it. Shrunk to 64 px
    tall, its background (a max filter of the paper's side, smoothed) taken out so that shadows
    go, ink of either polarity scaled to 0-255 by its 99.5th percentile, cropped to the rows and
    columns with ink over half that (a 2 px margin), and shrunk or grown to 32 px tall.
    """
    h, w = gray.shape
    width = max(1, round(w * PROBE / h))
    small = cv2.resize(gray, (width, PROBE), interpolation=cv2.INTER_AREA).astype(np.float32)
    lo, mid, hi = np.percentile(small, (2.0, 50.0, 98.0))
    if hi - mid > mid - lo:  # light ink on dark paper
        small = 255.0 - small
    kernel = np.ones((WINDOW, WINDOW), np.uint8)
    background = cv2.GaussianBlur(cv2.dilate(small, kernel), (0, 0), WINDOW / 2.0)
    contrast = np.maximum(background - small, 0.0)
    level = max(float(np.percentile(contrast, 99.5)), 16.0)
    ink = np.minimum(contrast * (255.0 / level), 255.0)
    rows = np.flatnonzero((ink > 127.0).any(axis=1))
    cols = np.flatnonzero((ink > 127.0).any(axis=0))
    top, bottom, left, right = 0, PROBE, 0, width
    if rows.size and cols.size:
        top, bottom = max(0, int(rows[0]) - 2), min(PROBE, int(rows[-1]) + 3)
        left, right = max(0, int(cols[0]) - 2), min(width, int(cols[-1]) + 3)
        ink = ink[top:bottom, left:right]
    out_w = int(min(MAX_WIDTH, max(8, round(ink.shape[1] * HEIGHT / ink.shape[0]))))
    out_w += out_w % 2
    fx, fy = w / width, h / PROBE
    where = (left * fx, top * fy, (right - left) * fx, (bottom - top) * fy)
    return cv2.resize(ink, (out_w, HEIGHT), interpolation=cv2.INTER_AREA).round().astype(np.uint8), where


class GlanceNet(nn.Module):
    """Four 3 x 3 convolution blocks (to 2 rows, half the columns), then 1-D convolutions over
    the columns: (N, 1, 32, W) ink in [0, 1] -> logits (N, W / 2, 12)."""

    def __init__(self, channels: tuple[int, int, int, int] = (32, 64, 96, 128), head: int = 192) -> None:
        super().__init__()
        c1, c2, c3, c4 = channels
        self.channels, self.head_width = channels, head

        def block(cin: int, cout: int, pool: tuple[int, int]) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.MaxPool2d(pool)]

        self.features = nn.Sequential(
            *block(1, c1, (2, 2)), *block(c1, c2, (2, 1)), *block(c2, c3, (2, 1)), *block(c3, c4, (2, 1))
        )
        self.head = nn.Sequential(
            nn.Conv1d(2 * c4, head, 3, padding=1, bias=False), nn.BatchNorm1d(head), nn.ReLU(inplace=True),
            nn.Conv1d(head, head, 5, padding=2, bias=False), nn.BatchNorm1d(head), nn.ReLU(inplace=True),
            nn.Dropout(0.1), nn.Conv1d(head, len(ALPHABET) + 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)  # (N, C, 2, W / 2)
        n, c, r, w = f.shape
        return self.head(f.reshape(n, c * r, w)).transpose(1, 2)


# ---------------------------------------------------------------------------- photos


def _photo_job(args: tuple[str | None, str, int, int, int]) -> list[tuple[npt.NDArray[np.uint8], str, str, float]]:
    """Photos of one worker: (input, text, kind, strength) each; the same for the same args."""
    data, split, seed, start, count = args
    images, labels = _digits(data, split)
    rng = np.random.default_rng([seed, start])
    gens = {kind: LineGenerator(images, labels, config=config, seed=int(rng.integers(2**31))) for kind, config in KINDS.items()}
    out = []
    names = list(KINDS)
    for i in range(count):
        kind = names[int(rng.integers(len(names)))]
        strength = float(rng.choice([0.0, 0.5, 1.0, rng.uniform()]))
        text = _text(kind, rng)
        tilt = 12.0 * strength + 3.0
        line = gens[kind].line(text, length=5, rotation=(-tilt, tilt), furniture=0.75 * strength + 0.1)
        photo = photograph(line, rng, strength=strength)
        quality = int(rng.integers(70, 96))
        _, encoded = cv2.imencode(".jpg", cv2.cvtColor(photo.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        gray = load_gray(encoded.tobytes()).gray
        out.append((prepare(gray), line.text, kind, strength))
    return out


@functools.lru_cache(maxsize=4)
def _digits(data: str | None, split: str) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """``train``: MNIST train less the 5 000 digits the classifiers hold out (split seed 0);
    ``held-out``: those 5 000; ``test``: MNIST test."""
    if split == "test":
        test = load_mnist("test", data)
        return test.images, np.asarray(test.labels, np.int64)
    train = load_mnist("train", data)
    held, fit = split_train(len(train.images), 5000, np.random.default_rng(0))
    index = held if split == "held-out" else fit
    return train.images[index], np.asarray(train.labels, np.int64)[index]


def _text(kind: str, rng: np.random.Generator) -> str:
    """A training line's text: the benchmark's for its format sets (ZIP+4, house numbers); of a
    5-digit set, 5 digits, or 1-9 of them on 30 % of the lines."""
    text = benchmark._text(kind, rng)
    if text is not None:
        return text
    length = 5 if rng.random() < 0.7 else int(rng.integers(1, 10))
    return "".join(str(d) for d in rng.integers(0, 10, length))


def make(args: argparse.Namespace) -> None:
    per = 2000
    jobs = [(args.data, "train", args.seed, start, min(per, args.photos - start)) for start in range(0, args.photos, per)]
    inputs: list[npt.NDArray[np.uint8]] = []
    texts: list[str] = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        for part in pool.map(_photo_job, jobs):
            inputs += [x for x, _, _, _ in part]
            texts += [t for _, t, _, _ in part]
            print(f"{len(texts)} photos, {time.perf_counter() - t0:.0f} s", flush=True)
    widths = np.array([x.shape[1] for x in inputs], np.int32)
    made = {"photos": args.photos, "seed": args.seed, "digits": "MNIST train less the 5 000 held out (split seed 0)"}
    np.savez(args.out, pixels=np.concatenate([x.reshape(-1) for x in inputs]), widths=widths, texts=np.array(texts), made=json.dumps(made))


# ---------------------------------------------------------------------------- training


def _encode(texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    flat = [ALPHABET.index(ch) + 1 for text in texts for ch in text if ch != " "]
    return torch.tensor(flat, dtype=torch.long), torch.tensor([len(t.replace(" ", "")) for t in texts], dtype=torch.long)


def _batch(images: list[npt.NDArray[np.uint8]], rng: np.random.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded (N, 1, 32, W) float batch and each input's frame count; ``rng``: stretch each
    by up to 15 % (training)."""
    if rng is not None:
        stretched: list[npt.NDArray[np.uint8]] = []
        for x in images:
            w = int(min(MAX_WIDTH, max(8, round(x.shape[1] * rng.uniform(0.85, 1.15)))))
            stretched.append(np.asarray(cv2.resize(x, (w + w % 2, HEIGHT), interpolation=cv2.INTER_LINEAR), np.uint8))
        images = stretched
    width = max(x.shape[1] for x in images)
    batch = np.zeros((len(images), 1, HEIGHT, width), np.float32)
    for i, x in enumerate(images):
        batch[i, 0, :, : x.shape[1]] = x / 255.0
    return torch.from_numpy(batch), torch.tensor([x.shape[1] // STRIDE for x in images], dtype=torch.long)


def _load_photos(path: str) -> tuple[list[npt.NDArray[np.uint8]], list[str], dict]:
    """A file of :func:`make`'s: the inputs, their texts, and how they were made."""
    with np.load(path) as f:
        pixels, widths, texts = f["pixels"], f["widths"], [str(t) for t in f["texts"]]
        made = json.loads(str(f["made"])) if "made" in f else {"photos": len(texts)}
    ends = np.cumsum(widths.astype(np.int64) * HEIGHT)
    starts = ends - widths.astype(np.int64) * HEIGHT
    return [pixels[s:e].reshape(HEIGHT, w) for s, e, w in zip(starts, ends, widths)], texts, made


def train(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    images: list[npt.NDArray[np.uint8]] = []
    texts: list[str] = []
    made: list[dict] = []
    for path in args.photos_file:
        more_images, more_texts, how = _load_photos(path)
        images, texts = images + more_images, texts + more_texts
        made.append(how)
    model = GlanceNet().to(device)
    state: dict = {"epochs": 0, "minutes": 0.0, "photos": 0, "history": []}
    if args.resume:
        payload = torch.load(args.resume, map_location="cpu", weights_only=False)
        model.load_state_dict(payload["state_dict"])
        state = payload["training"]
    before = float(state["minutes"])
    # What each run trained on and how (not where: the photo files are scratch).
    state.setdefault("runs", []).append({"photos": made, "minutes": None if args.epochs else args.minutes, "epochs": args.epochs, "lr": args.lr, "batch": args.batch, "seed": args.seed})
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    rng = np.random.default_rng([args.seed, state["epochs"]])
    order = np.argsort([x.shape[1] for x in images], kind="stable")
    batches = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    # One learning-rate cycle over the time given (CPU sessions are bounded by the clock, not
    # by epochs), or over --epochs (the same run each time): up from lr / 25 over its first
    # 15 %, then down to lr / 10^4 by its end.
    budget, total_photos = 60.0 * args.minutes, (args.epochs or 0) * len(images)
    t0 = time.perf_counter()
    seen = steps = 0
    done = False
    while not done:
        model.train()
        total, count = 0.0, 0
        for b in rng.permutation(len(batches)):
            f = seen / total_photos if total_photos else (time.perf_counter() - t0) / budget
            if f >= 1.0:
                done = True
                break
            lr = args.lr * (1 / 25 + (1 - 1 / 25) * (1 - math.cos(math.pi * f / 0.15)) / 2 if f < 0.15
                            else 1e-4 + (1 - 1e-4) * (1 + math.cos(math.pi * (f - 0.15) / 0.85)) / 2)
            for group in optimizer.param_groups:
                group["lr"] = lr
            idx = batches[b]
            x, lengths = _batch([images[i] for i in idx], rng)
            targets, target_lengths = _encode([texts[i] for i in idx])
            logits = model(x.to(device))
            log_probs = F.log_softmax(logits, -1).transpose(0, 1)
            loss = ctc(log_probs, targets, lengths.clamp(max=log_probs.shape[0]), target_lengths)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            total, count = total + float(loss.detach()) * len(idx), count + len(idx)
            seen += len(idx)
            steps += 1
            if steps % 500 == 0:
                print(f"  {count} photos, loss {total / count:.4f}, lr {lr:.2e}, {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
        if count == 0:
            break
        minutes = (time.perf_counter() - t0) / 60.0
        loss_mean = total / max(1, count)
        state["history"].append({"epoch": state["epochs"] + 1, "loss": loss_mean, "photos": count, "minutes": round(before + minutes, 2)})
        print(f"epoch {state['epochs'] + 1}: loss {loss_mean:.4f} ({count} photos), {minutes:.1f} min", flush=True)
        state["epochs"] += 1
        state["photos"] += count
        state["minutes"] = round(before + minutes, 2)
        _save(args.out, model, state)


def _save(path: str, model: GlanceNet, state: dict) -> None:
    payload = {
        "format": FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": {"height": HEIGHT, "stride": STRIDE, "alphabet": ALPHABET, "probe": PROBE, "window": WINDOW,
                   "channels": list(model.channels), "head": model.head_width},
        "training": state,
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)


# ---------------------------------------------------------------------------- reading


def load_glance(path: str, *, fuse: bool = True) -> GlanceNet:
    """The checkpoint's network for inference; ``fuse``: each BatchNorm folded into the
    convolution before it and the weights channels-last (oneDNN's fast layout), as the shipped
    networks run (:func:`classifier.model.fuse_batchnorm`): the same function to float rounding."""
    payload = torch.load(path, map_location="cpu", weights_only=False)
    if payload.get("format") != FORMAT:
        raise ValueError(f"{path} is no glance checkpoint")
    model = GlanceNet(tuple(payload["config"]["channels"]), payload["config"]["head"])
    model.load_state_dict(payload["state_dict"])
    return channels_last(fuse_batchnorm(model)) if fuse else model.eval()


def _channels_last(model: GlanceNet) -> bool:
    """Whether ``model``'s weights are channels-last (as :func:`load_glance` fuses it): its
    input goes in so too."""
    # (The first convolution's weights, of one input channel, are channels-last either way.)
    second = model.features[4]
    return isinstance(second, nn.Conv2d) and second.weight.is_contiguous(memory_format=torch.channels_last)


def glance(model: GlanceNet, source: object) -> tuple[str, float, list[tuple[int, int, int, int]]]:
    """The glance's reading of one photo: the best path's text, that text's probability over
    all its alignments (CTC, uncalibrated), and each digit's box (x, y, width, height) in the
    photo's pixels (see :func:`_boxes`)."""
    return _read(model, source)[:3]


def _read(
    model: GlanceNet, source: object
) -> tuple[str, float, list[tuple[int, int, int, int]], torch.Tensor, list[int]]:
    """:func:`glance`'s reading, and the logits (frames, 12) and labels it was read from."""
    gray = load_gray(source).gray  # type: ignore[arg-type]
    x, where = _prepare(gray)
    with torch.inference_mode():
        batch = torch.from_numpy(x[None, None].astype(np.float32) / 255.0)
        if _channels_last(model):
            batch = batch.contiguous(memory_format=torch.channels_last)
        logits = model(batch)[0]
    best = logits.argmax(-1).tolist()
    runs: list[tuple[int, int, int]] = []  # (label, first frame, last frame) of each emitted character
    for k, c in enumerate(best):
        if c != 0 and (k == 0 or c != best[k - 1]):
            runs.append((c, k, k))
        elif c != 0:
            runs[-1] = (c, runs[-1][1], k)
    labels = [c for c, _, _ in runs]
    text = "".join(ALPHABET[c - 1] for c in labels)
    boxes = _boxes(x, runs, where, gray.shape) if labels else []
    return text, _string_probability(logits, labels), boxes, logits, labels


def _string_probability(logits: torch.Tensor, labels: list[int], temperature: float = 1.0) -> float:
    """The probability of the string ``labels`` (CTC classes) over all its alignments under
    ``logits`` (frames, 12) divided by ``temperature``; of no string, that of blanks only."""
    with torch.inference_mode():
        log_probs = F.log_softmax(logits / temperature, -1)
        if not labels:
            return math.exp(float(log_probs[:, 0].sum()))
        nll = F.ctc_loss(log_probs[:, None], torch.tensor([labels]), torch.tensor([log_probs.shape[0]]),
                         torch.tensor([len(labels)]), blank=0, reduction="sum")
    return math.exp(-float(nll))


def _boxes(
    x: npt.NDArray[np.uint8], runs: list[tuple[int, int, int]], where: tuple[float, float, float, float], shape: tuple[int, ...]
) -> list[tuple[int, int, int, int]]:
    """Each digit's box from the frames the best path gives it, in the photo's pixels.

    The input's columns are split between two neighbouring characters at the least-inked column
    between their frames; a digit's box bounds the ink (over half) of its stretch that belongs to
    a mark under some character's frames, rows of 40 px or more (a rule, a box's edge) left out.
    """
    ink = (x > 127).astype(np.uint8)
    ink &= ~cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, 40), np.uint8)).astype(bool)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    spans = [(STRIDE * a - 2, STRIDE * (b + 1) + 2) for _, a, b in runs]
    keep = np.zeros(count, bool)
    for k in range(1, count):
        left, width = int(stats[k, cv2.CC_STAT_LEFT]), int(stats[k, cv2.CC_STAT_WIDTH])
        keep[k] = any(left < hi and left + width > lo for lo, hi in spans)
    ink = keep[labels]
    profile = ink.sum(axis=0)
    centres = [STRIDE * (a + b + 1) / 2.0 for _, a, b in runs]
    cuts = [0]
    for k in range(1, len(runs)):
        lo, hi = STRIDE * (runs[k - 1][2] + 1), STRIDE * runs[k][1]
        if hi <= lo:
            cuts.append(round((centres[k - 1] + centres[k]) / 2.0))
        else:
            cuts.append(lo + int(np.argmin(profile[lo:hi])))
    cuts.append(x.shape[1])
    sx, sy = where[2] / x.shape[1], where[3] / x.shape[0]
    out = []
    for k, (label, a, b) in enumerate(runs):
        if ALPHABET[label - 1] == "-":
            continue
        lo, hi = cuts[k], max(cuts[k] + 1, cuts[k + 1])
        rows = np.flatnonzero(ink[:, lo:hi].any(axis=1))
        cols = np.flatnonzero(ink[:, lo:hi].any(axis=0))
        if rows.size == 0:
            c0, c1, r0, r1 = STRIDE * a, STRIDE * (b + 1), 0, x.shape[0]
        else:
            c0, c1, r0, r1 = lo + int(cols[0]), lo + int(cols[-1]) + 1, int(rows[0]), int(rows[-1]) + 1
        left = min(shape[1] - 1, max(0, math.floor(where[0] + c0 * sx)))
        top = min(shape[0] - 1, max(0, math.floor(where[1] + r0 * sy)))
        right = min(shape[1], max(left + 1, math.ceil(where[0] + c1 * sx)))
        bottom = min(shape[0], max(top + 1, math.ceil(where[1] + r1 * sy)))
        out.append((left, top, right - left, bottom - top))
    return out


#: Temperatures the eval reads each photo's probability at (a calibration to fit later; the
#: best path is the same at every temperature).
TEMPERATURES = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


def evaluate(args: argparse.Namespace) -> None:
    """The glance on held-out photos drawn as the benchmark draws them (its seven kinds at
    strengths 0, 0.5 and 1), and the glance in front of the pipeline."""
    import tempfile

    from seqdigits import load_recognizer

    torch.set_num_threads(args.threads)
    model = load_glance(args.checkpoint, fuse=not args.unfused)
    split = "test" if args.test_digits else "held-out"
    with tempfile.TemporaryDirectory(prefix="glance-eval-") as scratch:
        tmp = args.photos or scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        images, labels = _digits(args.data, split)
        paths = []
        for kind, strength, i, photo in benchmark.draw_sets(images, labels, args.lines, args.seed, frozenset(KINDS)):
            path = Path(tmp) / f"{kind}-{strength:.1f}-{i:04d}.jpg"
            cv2.imwrite(str(path), cv2.cvtColor(photo.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
            truth_boxes = [(b.x, b.y, b.width, b.height) for b in photo.boxes]
            paths.append((kind, strength, path, photo.text.replace("-", ""), truth_boxes))
        recognizer = load_recognizer()
        recognizer.read(paths[0][2]), glance(model, paths[0][2])
        rows: list[dict[str, Any]] = []
        for kind, strength, path, truth, truth_boxes in paths:
            t = time.perf_counter()
            text, p, boxes, logits, labels_read = _read(model, path)
            g_ms = (time.perf_counter() - t) * 1000.0
            t = time.perf_counter()
            reading = recognizer.read(path)
            s_ms = (time.perf_counter() - t) * 1000.0
            cli_ms = None
            if args.tesseract_every and len(rows) % args.tesseract_every == 0:
                cli_ms = benchmark.run_tesseract_cli(path)[1]
            at = [_string_probability(logits, labels_read, t) for t in TEMPERATURES]
            rows.append({"p_at": at, "path": str(path), "cli_ms": cli_ms, "kind": kind, "strength": strength, "truth": truth, "glance": text.replace("-", ""), "p": p,
                         "glance_ms": g_ms, "pipeline": reading.text, "pipeline_ms": s_ms, "truth_boxes": truth_boxes,
                         "glance_boxes": boxes,
                         "pipeline_boxes": [(c.box.x, c.box.y, c.box.width, c.box.height) for c in reading.characters]})
    if args.rows:
        Path(args.rows).write_text(json.dumps(rows))
    n = len(rows)
    right = sum(r["glance"] == r["truth"] for r in rows)
    piped = sum(r["pipeline"] == r["truth"] for r in rows)
    print(f"{n} photos ({split} digits): glance {right} right ({right / n:.3f}), median {np.median([r['glance_ms'] for r in rows]):.2f} ms; "
          f"pipeline {piped} ({piped / n:.3f}), median {np.median([r['pipeline_ms'] for r in rows]):.1f} ms")
    for kind in KINDS:
        sub = [r for r in rows if r["kind"] == kind]
        print(f"  {kind}: glance {sum(r['glance'] == r['truth'] for r in sub)} / pipeline {sum(r['pipeline'] == r['truth'] for r in sub)} of {len(sub)}")
    cli = [r["cli_ms"] for r in rows if r["cli_ms"] is not None]
    if cli:
        print(f"tesseract CLI on {len(cli)} of them: median {np.median(cli):.1f} ms; a thirtieth of it {np.median(cli) / 30:.2f} ms")
    both = [r for r in rows if r["glance"] == r["truth"] == r["pipeline"]]
    g_iou = [Box(*a).iou(Box(*b)) for r in both for a, b in zip(r["glance_boxes"], r["truth_boxes"])]
    s_iou = [Box(*a).iou(Box(*b)) for r in both for a, b in zip(r["pipeline_boxes"], r["truth_boxes"])]
    print(f"boxes of the {len(both)} photos both read right, against the generator's: mean IoU glance {np.mean(g_iou):.3f} "
          f"(under 0.5: {sum(v < 0.5 for v in g_iou)}), pipeline {np.mean(s_iou):.3f} ({sum(v < 0.5 for v in s_iou)}), of {len(g_iou)}")
    bins = [(0.0, 0.5), (0.5, 0.9), (0.9, 0.97), (0.97, 0.99), (0.99, 1.01)]
    print("the glance's probability against how often it is right: " + "; ".join(
        f"{lo:g}-{min(hi, 1.0):g}: {sum(r['glance'] == r['truth'] for r in b)} of {len(b)}"
        for lo, hi in bins for b in [[r for r in rows if lo <= r["p"] < hi]]))
    print("| sure at | sure of | right when sure (pipeline there) | right in all | median / mean ms |")
    print("|---|---|---|---|---|")
    for threshold in (0.9, 0.95, 0.97, 0.98, 0.99, 0.995):
        sure = [r for r in rows if r["p"] >= threshold]
        cascade = [r["glance"] if r["p"] >= threshold else r["pipeline"] for r in rows]
        ms = [r["glance_ms"] + (0.0 if r["p"] >= threshold else r["pipeline_ms"]) for r in rows]
        print(f"| {threshold} | {len(sure) / n:.1%} | {sum(r['glance'] == r['truth'] for r in sure)} of {len(sure)} "
              f"({sum(r['pipeline'] == r['truth'] for r in sure)}) | {sum(c == r['truth'] for c, r in zip(cascade, rows))} "
              f"| {np.median(ms):.1f} / {np.mean(ms):.1f} |")


def temperature(args: argparse.Namespace) -> None:
    """The temperature (of :data:`TEMPERATURES`) under which the glance's probabilities best
    tell its right readings from its wrong ones in ``eval --rows`` files: the least negative
    log-likelihood of right and wrong."""
    rows = [row for path in args.rows for row in json.loads(Path(path).read_text())]

    def nll(k: int) -> float:
        total = 0.0
        for row in rows:
            p = min(max(row["p_at"][k], 1e-9), 1.0 - 1e-9)
            total -= math.log(p) if row["glance"] == row["truth"] else math.log(1.0 - p)
        return total

    scores = [nll(k) for k in range(len(TEMPERATURES))]
    print(f"{len(rows)} readings, {sum(r['glance'] == r['truth'] for r in rows)} right; negative log-likelihood by temperature: "
          + ", ".join(f"{t:g}: {v:.1f}" for t, v in zip(TEMPERATURES, scores)))
    print(f"least at {TEMPERATURES[int(np.argmin(scores))]:g}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make", help="training photos, prepared as the glance reads them")
    p.add_argument("--data", default=os.environ.get("SEQDIGITS_DATA"))
    p.add_argument("--photos", type=int, default=120000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--out", required=True)
    p = sub.add_parser("train", help="train (or go on training) the glance")
    p.add_argument("--photos-file", required=True, action="append", help="a file of `make`'s (repeat for several)")
    p.add_argument("--out", required=True)
    p.add_argument("--resume", help="a checkpoint to go on from")
    p.add_argument("--minutes", type=float, default=60.0, help="train this long: one learning-rate cycle (saved each epoch)")
    p.add_argument("--epochs", type=int, help="one cycle over this many epochs instead of --minutes (a run that repeats)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p = sub.add_parser("eval", help="the glance, and the glance before the pipeline, on held-out photos")
    p.add_argument("--data", default=os.environ.get("SEQDIGITS_DATA"))
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--lines", type=int, default=100, help="photos per kind and strength")
    p.add_argument("--seed", type=int, default=7000)
    p.add_argument("--test-digits", action="store_true", help="MNIST test digits instead of the held-out training digits")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--rows", help="write each photo's readings here (JSON)")
    p.add_argument("--unfused", action="store_true", help="read with the BatchNorm layers as trained")
    p.add_argument("--photos", help="write the photos to this folder and keep them (default: a temporary one)")
    p.add_argument("--tesseract-every", type=int, default=0, help="time the tesseract CLI on every k-th photo too")
    p = sub.add_parser("temperature", help="the temperature that calibrates the glance, from eval --rows files")
    p.add_argument("rows", nargs="+")
    args = parser.parse_args()
    {"make": make, "train": train, "eval": evaluate, "temperature": temperature}[args.command](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
