"""The line model: a whole normalized line in, per-column digit probabilities out (CTC).

Where the digit CNN reads one crop at a time and needs the segmenter's cuts to be right,
this network reads the line as a sequence (a small CNN, then a bidirectional GRU over the
columns) and was trained with the CTC loss, so it reads touching and overlapping digits
without any cut. The recognizer uses it to score whole strings; the crops and the lattice
still say where each digit stands.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from classifier.model import channels_last, fuse_batchnorm
from classifier.predict import CheckpointError, load_weights, read_payload, write_payload
from classifier.preprocess import LineConfig

__all__ = [
    "BLANK",
    "CTC_CELLS",
    "ENSEMBLE_FORMAT",
    "LINE_FORMAT",
    "STACKED_LINES",
    "STRIDE",
    "STRIDES",
    "LineEnsemble",
    "LineNet",
    "LineReader",
    "LineWeights",
    "StackedGRU",
    "batch_lines",
    "checkpoint_shape",
    "ctc_alignment",
    "ctc_beam_search",
    "ctc_log_likelihoods",
    "default_line_ensemble_path",
    "default_line_weights_path",
    "encode_texts",
    "ensemble_candidates",
    "ensemble_log_likelihoods",
    "frames",
    "load_line_ensemble",
    "log_mean_exp",
    "read_lines",
    "save_line_checkpoint",
    "write_line_ensemble",
]

LINE_FORMAT = "seqdigits-linenet/1"
#: Output column 0 is CTC's blank; column d + 1 is digit d.
BLANK = 0
#: Columns of the input per output frame (two 2x2 poolings), as the shipped models read.
STRIDE = 4
#: The strides a :class:`LineNet` can have: 4, or 2 (the second pooling keeps the columns).
STRIDES = (2, 4)


def frames(width: int, stride: int = STRIDE) -> int:
    """Output frames for an input ``width`` columns wide (the last may be part blank)."""
    return max(1, -(-width // stride))


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class LineNet(nn.Module):
    """CNN + BiGRU line reader (~0.57 M parameters at ``width`` 32).

    Input: float32 (N, 1, 32, W), ink 1.0 on 0.0, W a multiple of 4. Output: logits
    (N, W / stride, 11), one row per ``stride`` columns (4, or 2: twice the frames, the same
    parameters). ``lengths`` (N,) gives each line's own frame count: the columns past it are
    zeroed after every layer and the GRU stops there, so a line reads the same alone as padded
    in a batch.
    """

    def __init__(self, width: int = 32, hidden: int = 128, dropout: float = 0.2, stride: int = STRIDE) -> None:
        super().__init__()
        if stride not in STRIDES:
            raise ValueError(f"a line model's stride is one of {STRIDES}, got {stride}")
        # Its shape, as a checkpoint records it (see checkpoint_shape).
        self.width, self.hidden, self.stride = width, hidden, stride
        w = width
        self.features = nn.Sequential(
            *_block(1, w), nn.MaxPool2d(2),  # 16 rows
            *_block(w, 2 * w), nn.MaxPool2d(2 if stride == 4 else (2, 1)),  # 8 rows
            *_block(2 * w, 3 * w), *_block(3 * w, 3 * w), nn.MaxPool2d((2, 1)),  # 4 rows
            *_block(3 * w, 4 * w), nn.MaxPool2d((2, 1)),  # 2 rows, columns kept for the sequence
        )
        self.rnn = nn.GRU(8 * w, hidden, bidirectional=True, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, 11)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(self.recur(self.encode(x, lengths), lengths)))

    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The CNN's columns as a sequence: float32 (N, T, 8 x width), T = W / stride."""
        padded = bool((lengths * self.stride < x.shape[-1]).any())
        columns = torch.arange(x.shape[-1], device=x.device)
        scale = self.stride
        f = x
        for layer in self.features:
            f = layer(f)
            if isinstance(layer, nn.MaxPool2d) and layer.kernel_size == 2:
                scale //= 2
            if padded and isinstance(layer, nn.ReLU):
                # A padded column would hold the BatchNorm shift, not the zero a lone line sees.
                keep = columns[: f.shape[-1]][None, :] < (lengths * scale)[:, None]
                f = f * keep[:, None, None, :]
        n, c, h, t = f.shape
        return f.reshape(n, c * h, t).transpose(1, 2)

    def recur(self, seq: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The GRU over :meth:`encode`'s sequence, each line stopping at its own ``lengths``
        frames (the frames past it zero): (N, T, 2 x hidden)."""
        if bool((lengths == seq.shape[1]).all()):  # one line, or lines of one width: nothing to pack
            return self.rnn(seq)[0]
        packed = pack_padded_sequence(seq, lengths.cpu(), batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=seq.shape[1])[0]


@dataclass(frozen=True, slots=True)
class StackedGRU:
    """Single-layer bidirectional GRUs (batch first), run side by side in numpy for inference.

    Every line, in both directions, of every GRU steps at once: one batched matrix product and a
    few array operations a frame. :class:`torch.nn.GRU` steps one model and one direction at a
    time, and on a 5-digit line (about 65 frames) its per-step overhead was most of a line
    model's time. PyTorch's equations, to float32 rounding (about 1e-6 on the outputs); the
    weights are copied when this is made. ``G`` = 2 per GRU (forward, backward), ``H`` hidden.
    """

    w_input: npt.NDArray[np.float32]
    """(G, D, 3H), the r and z gates' columns halved: sigmoid(a) = (1 + tanh(a / 2)) / 2."""
    b_input: npt.NDArray[np.float32]
    """(G, 3H): the input biases, plus the hidden ones of the r and z gates (halved alike)."""
    w_hidden: npt.NDArray[np.float32]
    """(G, H, 3H), halved alike."""
    b_hidden: npt.NDArray[np.float32]
    """(G, H): the n gate's hidden bias, which r multiplies."""

    @classmethod
    def of(cls, grus: Sequence[nn.GRU]) -> StackedGRU | None:
        """``grus`` stacked; None unless all are single-layer, bidirectional, batch first, with
        biases, and of one input and one hidden size."""
        if not grus or any(
            (g.num_layers, g.bidirectional, g.batch_first, g.bias, g.input_size, g.hidden_size)
            != (1, True, True, True, grus[0].input_size, grus[0].hidden_size)
            for g in grus
        ):
            return None
        hidden = grus[0].hidden_size
        half = np.ones(3 * hidden, np.float32)
        half[: 2 * hidden] = 0.5  # exact: a power of two
        names = [("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
        names.append(tuple(name + "_reverse" for name in names[0]))  # type: ignore[arg-type]
        parts: list[list[npt.NDArray[np.float32]]] = [[], [], [], []]
        for gru in grus:
            for w_ih, w_hh, b_ih, b_hh in (
                [getattr(gru, n).detach().cpu().numpy().astype(np.float32) for n in d] for d in names
            ):
                parts[0].append(w_ih.T * half)
                parts[1].append(np.concatenate([b_ih[: 2 * hidden] + b_hh[: 2 * hidden], b_ih[2 * hidden :]]) * half)
                parts[2].append(w_hh.T * half)
                parts[3].append(b_hh[2 * hidden :])
        return cls(*(np.ascontiguousarray(np.stack(p), np.float32) for p in parts))

    def __call__(
        self, seqs: Sequence[npt.NDArray[np.float32]], lengths: Sequence[npt.NDArray[np.int64]]
    ) -> list[npt.NDArray[np.float32]]:
        """Per GRU, its outputs (N, T_m, 2H) for its input ``seqs[m]`` (N, T_m, D), each line
        stopping at its own ``lengths[m]`` (N,) frames, the frames past it zero (as packed
        sequences read). Every GRU reads the same N lines."""
        groups, hidden = self.w_hidden.shape[0], self.w_hidden.shape[1]
        n, t = seqs[0].shape[0], max(seq.shape[1] for seq in seqs)
        x = np.zeros((groups, n, t, self.w_input.shape[1]), np.float32)
        rows, steps = np.arange(n)[:, None], np.arange(t)[None, :]
        backs = []
        for m, (seq, length) in enumerate(zip(seqs, lengths)):
            # The backward direction reads each line from its own last frame: frame j of the
            # reversed line is frame length - 1 - j (and reversing twice is the identity).
            back = np.asarray(length, np.int64)[:, None] - 1 - steps
            x[2 * m, :, : seq.shape[1]] = seq
            x[2 * m + 1] = np.where(back[..., None] >= 0, seq[rows, back.clip(0, seq.shape[1] - 1)], 0.0)
            backs.append(back)
        # In torch: its thread pool serves the rest of inference, where numpy's BLAS would
        # start threads of its own for this product and leave them spinning.
        product = torch.matmul(torch.from_numpy(x.reshape(groups, n * t, -1)), torch.from_numpy(self.w_input))
        gates = product.numpy().reshape(groups, n, t, -1)
        gates += self.b_input[:, None, None, :]
        gates = np.ascontiguousarray(gates.transpose(2, 0, 1, 3))  # (T, G, N, 3H): a frame's gates contiguous
        state = np.zeros((groups, n, hidden), np.float32)
        g = np.empty((groups, n, 3 * hidden), np.float32)
        # The products in torch, into numpy's arrays: numpy's BLAS is slow on the batched
        # products of many lines (and would start threads of its own); the gates in numpy,
        # whose small operations cost a fraction of torch's.
        state_t, g_t, w_hidden = torch.from_numpy(state), torch.from_numpy(g), torch.from_numpy(self.w_hidden)
        out = np.empty((t, groups, n, hidden), np.float32)
        bias = self.b_hidden[:, None, :]
        rz, new = g[..., : 2 * hidden], g[..., 2 * hidden :]
        r, z = rz[..., :hidden], rz[..., hidden:]
        for k in range(t):
            torch.bmm(state_t, w_hidden, out=g_t)
            rz += gates[k, ..., : 2 * hidden]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            new += bias
            new *= r
            new += gates[k, ..., 2 * hidden :]
            np.tanh(new, out=new)
            state -= new  # h' = n + z (h - n)
            state *= z
            state += new
            out[k] = state
        out = out.transpose(1, 2, 0, 3)  # (G, N, T, H)
        result = []
        for m, (seq, back) in enumerate(zip(seqs, backs)):
            width = seq.shape[1]
            y = np.zeros((n, width, 2 * hidden), np.float32)
            keep = back[:, :width, None] >= 0
            y[..., :hidden] = np.where(keep, out[2 * m, :, :width], 0.0)
            y[..., hidden:] = np.where(keep, out[2 * m + 1][rows, back[:, :width].clip(0, t - 1)], 0.0)
            result.append(y)
        return result


def default_line_weights_path() -> Path:
    """The first line model shipped inside the package (``classifier/weights/linenet.pt``)."""
    return Path(str(resources.files("classifier") / "weights" / "linenet.pt"))


def default_line_ensemble_path() -> Path:
    """The ensemble of line models the recognizer reads with by default
    (``classifier/weights/linenets.json``, see :func:`load_line_ensemble`)."""
    return Path(str(resources.files("classifier") / "weights" / "linenets.json"))


def save_line_checkpoint(
    path: str | os.PathLike[str], model: LineNet, *, config: LineConfig, temperature: float, metrics: dict[str, Any]
) -> None:
    """Write the line model, its shape, the normalization it was trained with and its calibration."""
    write_payload(
        path, LINE_FORMAT, model,
        width=model.width, hidden=model.hidden, stride=model.stride, line=config.to_dict(), temperature=float(temperature), metrics=metrics,
    )


def checkpoint_shape(payload: dict[str, Any]) -> tuple[int, int, int]:
    """The network a line checkpoint holds: (width, hidden, stride). Checkpoints written before
    the stride was an option read at stride 4."""
    return int(payload["width"]), int(payload["hidden"]), int(payload.get("stride", STRIDE))


def batch_lines(images: Sequence[npt.NDArray[np.uint8]], stride: int = STRIDE) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad normalized lines (uint8 (32, W_i)) into float32 (N, 1, 32, W), W a multiple of 4, and
    their frame counts (N,) for a model of ``stride``."""
    width = frames(max(image.shape[1] for image in images)) * STRIDE
    x = np.zeros((len(images), 1, images[0].shape[0], width), np.float32)
    for i, image in enumerate(images):
        x[i, 0, :, : image.shape[1]] = image / np.float32(255.0)
    return torch.from_numpy(x), torch.tensor([frames(image.shape[1], stride) for image in images])


@dataclass(frozen=True, slots=True)
class LineReader:
    """A trained :class:`LineNet` with its normalization and calibration, ready for inference."""

    model: LineNet
    config: LineConfig
    temperature: float
    metrics: dict[str, Any]
    gru: StackedGRU | None = field(init=False, repr=False, compare=False, default=None)
    """The model's GRU as inference runs it (see :class:`StackedGRU`), copied from ``model``
    when the reader is made."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "gru", StackedGRU.of([self.model.rnn]))

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> LineReader:
        """Load weights (default: the packaged ones) in eval mode. Raises :class:`CheckpointError`."""
        path = path if path is not None else default_line_weights_path()
        payload = read_payload(path, LINE_FORMAT, what="line weights", kind="seqdigits line model")
        width, hidden, stride = checkpoint_shape(payload)
        model = LineNet(width=width, hidden=hidden, stride=stride)
        load_weights(model, payload, what="line weights")
        return cls(
            # As the digit CNN: BatchNorm folded, channels-last activations (oneDNN's faster layout).
            model=channels_last(fuse_batchnorm(model.eval())),
            config=LineConfig.from_dict(payload["line"]),
            temperature=float(payload.get("temperature", 1.0)),
            metrics=dict(payload.get("metrics", {})),
        )

    def log_probs(self, images: Sequence[npt.NDArray[np.uint8]], *, sharpen: float = 1.0) -> list[npt.NDArray[np.float64]]:
        """Calibrated per-frame log-probabilities, float64 (frames, 11) per normalized line
        (:func:`~classifier.preprocess.normalize_line`); one forward pass for all of them.
        ``sharpen``: a further temperature, an ensemble's (see :class:`LineEnsemble`)."""
        return read_lines((self,), [images], sharpen=sharpen, gru=self.gru)[0]


#: The most lines :func:`read_lines` steps through a :class:`StackedGRU`. Its gates are numpy
#: operations on one thread, where torch's GRU fuses them and uses two, so its gain shrinks as
#: lines are added: for three models, 2.9 against 5.1 ms on 1 line, 8.3 against 10.0 on 4
#: lines of 70 frames, 14.0 against 14.9 on 8, and 28.5 against 26.9 on 16. A photo has one
#: line or a few; a batch of photos (``read_batch``) many.
STACKED_LINES = 4


def read_lines(
    readers: Sequence[LineReader],
    images: Sequence[Sequence[npt.NDArray[np.uint8]]],
    *,
    sharpen: float = 1.0,
    gru: StackedGRU | None = None,
) -> list[list[npt.NDArray[np.float64]]]:
    """Per reader, :meth:`LineReader.log_probs` of its normalized lines ``images[m]`` (every
    reader the same number of lines). ``gru``: the readers' GRUs stacked (:class:`StackedGRU`),
    which then step together, for up to :data:`STACKED_LINES` lines; otherwise (and without
    it) each model's own GRU."""
    if not images or not images[0]:
        return [[] for _ in readers]
    with torch.inference_mode():
        batches = [batch_lines(lines, reader.model.stride) for reader, lines in zip(readers, images)]
        seqs = [
            reader.model.encode(x.contiguous(memory_format=torch.channels_last), lengths)
            for reader, (x, lengths) in zip(readers, batches)
        ]
        if gru is not None and len(images[0]) <= STACKED_LINES:
            stepped = gru([seq.numpy() for seq in seqs], [lengths.numpy() for _, lengths in batches])
            hidden = [torch.from_numpy(h) for h in stepped]
        else:
            hidden = [reader.model.recur(seq, lengths) for reader, seq, (_, lengths) in zip(readers, seqs, batches)]
        out = []
        for reader, h, (_, lengths) in zip(readers, hidden, batches):
            logits = reader.model.out(reader.model.dropout(h)).double() / (reader.temperature * sharpen)
            log_probs = F.log_softmax(logits, dim=-1).numpy()
            out.append([log_probs[i, : int(n)] for i, n in enumerate(lengths)])
    return out


#: The format tag of an ensemble file (JSON).
ENSEMBLE_FORMAT = "seqdigits-line-ensemble/1"


@dataclass(frozen=True, slots=True)
class LineEnsemble:
    """Line models that read together. A string's probability is the mean of the models'
    probabilities (:func:`ensemble_log_likelihoods`), each model's frame distributions first
    sharpened by 1 / ``temperature``: an even mixture of calibrated models is under-confident,
    so the ensemble has a temperature of its own, fitted on held-out lines
    (``seqdigits fit-ensemble``). One model with temperature 1 reads as that model alone.

    ``calibration`` (scale, shift) maps a reading's probability ``p`` to
    sigmoid(scale * logit(p) + shift) (:meth:`calibrate`): the reader picks its string with the
    segmentation lattice too, and is right more often than the line models' probability of that
    string says. Fitted on photographed lines of held-out digits read by the whole recognizer;
    (1, 0) leaves probabilities as they are."""

    readers: tuple[LineReader, ...]
    temperature: float = 1.0
    metrics: dict[str, Any] = field(default_factory=dict)
    calibration: tuple[float, float] = (1.0, 0.0)
    gru: StackedGRU | None = field(init=False, repr=False, compare=False, default=None)
    """All the models' GRUs stacked, so that they step together (see :class:`StackedGRU`)."""

    def __post_init__(self) -> None:
        if not self.readers:
            raise ValueError("a line ensemble needs at least one line model")
        if not (math.isfinite(self.temperature) and self.temperature > 0.0):
            raise ValueError(f"the ensemble's temperature must be positive, got {self.temperature}")
        scale, shift = self.calibration
        if not (math.isfinite(scale) and scale > 0.0 and math.isfinite(shift)):
            raise ValueError(f"the ensemble's calibration needs a positive scale and a finite shift, got {self.calibration}")
        object.__setattr__(self, "gru", StackedGRU.of([reader.model.rnn for reader in self.readers]))

    def log_probs(self, images: Sequence[Sequence[npt.NDArray[np.uint8]]]) -> list[list[npt.NDArray[np.float64]]]:
        """Per model, the log-probabilities of its normalized lines ``images[m]`` sharpened by
        the ensemble's temperature, as :func:`ensemble_log_likelihoods` takes them; one pass."""
        return read_lines(self.readers, images, sharpen=self.temperature, gru=self.gru)

    def calibrate(self, probability: float) -> float:
        """sigmoid(scale * logit(p) + shift): increasing, 0 and 1 kept; the identity for (1, 0)."""
        if probability <= 0.0 or probability >= 1.0 or self.calibration == (1.0, 0.0):
            return min(1.0, max(0.0, probability))
        scale, shift = self.calibration
        z = scale * (math.log(probability) - math.log1p(-probability)) + shift
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


LineWeights = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None
"""Line weights: an ensemble file (``.json``), one line-model checkpoint, several checkpoints
(an ensemble with temperature 1), or None for the packaged ensemble."""


def load_line_ensemble(weights: LineWeights = None) -> LineEnsemble:
    """Load line models as :data:`LineWeights` says (default: the packaged ensemble).
    Raises :class:`CheckpointError`, also for an empty list."""
    if weights is None:
        return _read_ensemble(default_line_ensemble_path())
    if isinstance(weights, (str, os.PathLike)):
        return _read_ensemble(weights) if Path(weights).suffix == ".json" else LineEnsemble((LineReader.load(weights),))
    paths = list(weights)
    if not paths:
        raise CheckpointError("no line weights given (an empty list)")
    if len(paths) == 1:
        return load_line_ensemble(paths[0])
    if any(Path(path).suffix == ".json" for path in paths):
        raise CheckpointError("an ensemble file (.json) is line weights on its own; list checkpoints or give one ensemble file")
    return LineEnsemble(tuple(LineReader.load(path) for path in paths))


def write_line_ensemble(
    path: str | os.PathLike[str],
    models: Sequence[str | os.PathLike[str]],
    *,
    temperature: float,
    metrics: dict[str, Any],
    calibration: tuple[float, float] = (1.0, 0.0),
) -> None:
    """Write an ensemble file: its models' paths (relative to the file, so that the package and
    a copied folder keep working), its temperature, its readings' calibration (see
    :class:`LineEnsemble`) and the figures measured when it was fitted."""
    folder = Path(path).resolve().parent
    names = [os.path.relpath(Path(model).resolve(), folder) for model in models]
    document = {
        "format": ENSEMBLE_FORMAT, "models": names, "temperature": float(temperature),
        "calibration": {"scale": float(calibration[0]), "shift": float(calibration[1])}, "metrics": metrics,
    }
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _finite(value: object) -> bool:
    """Whether a JSON value is a finite number (true and false are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _read_ensemble(path: str | os.PathLike[str]) -> LineEnsemble:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CheckpointError(f"line ensemble not found: {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"cannot read line ensemble {path}: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != ENSEMBLE_FORMAT:
        raise CheckpointError(f"{path} is not a seqdigits line ensemble ({ENSEMBLE_FORMAT})")
    models, temperature = document.get("models"), document.get("temperature", 1.0)
    if not (isinstance(models, list) and models and all(isinstance(m, str) for m in models)):
        raise CheckpointError(f"{path}: 'models' must be a non-empty list of checkpoint paths")
    if not (_finite(temperature) and temperature > 0):
        raise CheckpointError(f"{path}: 'temperature' must be a positive number, got {temperature!r}")
    calibration = document.get("calibration", {"scale": 1.0, "shift": 0.0})
    values: list[Any] = [calibration.get(key) for key in ("scale", "shift")] if isinstance(calibration, dict) else [None, None]
    if not (all(_finite(v) for v in values) and values[0] > 0):
        raise CheckpointError(f"{path}: 'calibration' must be {{\"scale\": a positive number, \"shift\": a number}}, got {calibration!r}")
    folder = Path(path).parent
    readers = tuple(LineReader.load(folder / model) for model in models)
    return LineEnsemble(readers, float(temperature), dict(document.get("metrics") or {}), (float(values[0]), float(values[1])))


def encode_texts(texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Digit strings as CTC targets: their classes (digit d is d + 1), concatenated, and their lengths."""
    targets = torch.tensor([int(ch) + 1 for text in texts for ch in text], dtype=torch.long)
    return targets, torch.tensor([len(text) for text in texts], dtype=torch.long)


#: The most cells of the CTC loss's table (frames x (2 x text length + 1), 8 bytes each) one call
#: of :func:`ctc_log_likelihoods` fills at once: 32 MB.
CTC_CELLS = 4_000_000


def ctc_log_likelihoods(log_probs: npt.NDArray[np.float64], texts: Sequence[str]) -> list[float]:
    """log P(text | line) under CTC for each of ``texts`` (digit strings; "" is allowed).

    ``log_probs``: float (frames, 11) from :meth:`LineReader.log_probs`. A text that needs
    more frames than the line has gets ``-inf``.
    """
    t = log_probs.shape[0]
    frames_ = torch.from_numpy(np.ascontiguousarray(log_probs)).unsqueeze(1)
    out: list[float] = []
    # In parts: the loss keeps a table of frames x (2 x length + 1) per text, and the variants of
    # a long string (a digit changed in every place) are many long texts.
    parts: list[list[str]] = []
    longest = 0
    for text in texts:
        longest = max(longest, len(text))
        if not parts or (len(parts[-1]) + 1) * t * (2 * longest + 1) > CTC_CELLS:
            parts.append([])
            longest = len(text)
        parts[-1].append(text)
    for part in parts:
        targets, lengths = encode_texts(part)
        lp = frames_.expand(t, len(part), log_probs.shape[1])
        loss = F.ctc_loss(lp, targets, torch.full((len(part),), t, dtype=torch.long), lengths, blank=BLANK, reduction="none")
        out += [-float(v) for v in loss]
    return out


def ensemble_log_likelihoods(log_probs: Sequence[npt.NDArray[np.float64]], texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """log P(text | line) under an even mixture of line models, for each of ``texts``.

    ``log_probs``: one float (frames, 11) array per model, for the same line (each already
    sharpened by the ensemble's temperature, see :class:`LineEnsemble`). The mixture's
    probability of a text is the mean of the models' probabilities. With one model,
    :func:`ctc_log_likelihoods` as it is. Returns float64 (len(texts),).
    """
    each = np.array([ctc_log_likelihoods(lp, texts) for lp in log_probs], np.float64).reshape(len(log_probs), len(texts))
    return each[0] if len(log_probs) == 1 else log_mean_exp(each)


def log_mean_exp(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """log(mean(exp(values))) over the first axis, computed stably: an even mixture of the
    models whose log-probabilities ``values`` stacks (models first). -inf in every model (a
    text too long for the line) stays -inf, not NaN."""
    top = values.max(axis=0)
    shift = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return shift + np.log(np.exp(values - shift).mean(axis=0))


def ctc_alignment(log_probs: npt.NDArray[np.float64], text: str) -> list[tuple[int, int]] | None:
    """Where each digit of ``text`` stands in a line: its first and last frame on the likeliest
    CTC path that spells it (Viterbi), in order; None when the line has too few frames.

    ``log_probs``: float (frames, 11), as for :func:`ctc_log_likelihoods`.
    """
    t = log_probs.shape[0]
    labels = [BLANK]
    for ch in text:
        labels += [int(ch) + 1, BLANK]
    n = len(labels)
    lp = log_probs[:, labels]  # (frames, states): each state's log-probability per frame
    # A state may come from itself, the one before, or (a digit after a blank between two other
    # digits) the one two before: a repeated digit needs its blank.
    skip = np.zeros(n, bool)
    skip[3::2] = [text[k] != text[k - 1] for k in range(1, len(text))]
    score = np.full(n, -np.inf)
    score[:2] = lp[0, :2]
    came = np.zeros((t, n), np.int8)  # 0: stayed, 1: from the state before, 2: from two before
    moves = np.full((3, n), -np.inf)
    for f in range(1, t):
        moves[0], moves[1, 1:], moves[2, 2:] = score, score[:-1], np.where(skip[2:], score[:-2], -np.inf)
        came[f] = moves.argmax(axis=0)
        score = moves.max(axis=0) + lp[f]
    end = n - 1 if n == 1 or score[n - 1] >= score[n - 2] else n - 2
    if not np.isfinite(score[end]):
        return None
    spans: dict[int, list[int]] = {}
    state = end
    for f in range(t - 1, -1, -1):
        if labels[state] != BLANK:
            spans.setdefault(state, []).append(f)
        state -= int(came[f, state])
    return [(min(spans[s]), max(spans[s])) for s in range(1, n, 2)]


def ensemble_candidates(log_probs: Sequence[npt.NDArray[np.float64]], *, width: int = 6) -> list[str]:
    """The texts any model's beam search (``width``) finds for one line, each once, in the order
    found: the strings an ensemble's reading chooses among."""
    found = (text for lp in log_probs for text, _ in ctc_beam_search(lp, width=width))
    return list(dict.fromkeys(found))


def ctc_beam_search(log_probs: npt.NDArray[np.float64], *, width: int = 6, floor: float = 1e-4) -> list[tuple[str, float]]:
    """The ``width`` most likely texts by CTC prefix beam search, with their log-probabilities
    (best first). Digits under ``floor`` probability in a frame are not extended there."""
    probs = np.exp(log_probs)
    # Python floats and index lists, made once for all frames: the search below is plain
    # Python, and reading numpy scalars one by one was a third of its time.
    rows: list[list[float]] = probs.tolist()
    # (One nonzero over all frames, in row order, then split by frame: a call per frame was a
    # fifth of the search.)
    frame, digit = np.nonzero(probs[:, 1:] >= floor)
    ends = np.searchsorted(frame, np.arange(1, probs.shape[0] + 1)).tolist()
    columns = digit.tolist()
    allowed: list[list[int]] = [columns[start:end] for start, end in zip([0, *ends[:-1]], ends)]
    names = [str(d) for d in range(probs.shape[1] - 1)]
    beams: dict[str, tuple[float, float]] = {"": (1.0, 0.0)}  # text -> P(ends in blank), P(ends in its last digit)
    log_scale = 0.0
    for row, digits in zip(rows, allowed):
        grown: dict[str, list[float]] = {}
        for text, (blank, last) in beams.items():
            entry = grown.setdefault(text, [0.0, 0.0])
            entry[0] += (blank + last) * row[BLANK]
            for d in digits:
                ch, p = names[d], row[d + 1]
                longer = grown.setdefault(text + ch, [0.0, 0.0])
                if text and text[-1] == ch:
                    longer[1] += blank * p  # a repeated digit needs a blank between
                    entry[1] += last * p  # the same digit held over another frame
                else:
                    longer[1] += (blank + last) * p
        ranked = sorted(grown.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:width]
        total = sum(b + n for _, (b, n) in ranked)
        if total <= 0.0:
            break
        # Rescaled every frame so that long lines do not underflow; the scale is kept as a log.
        log_scale += math.log(total)
        beams = {text: (b / total, n / total) for text, (b, n) in ranked}
    return [(text, log_scale + math.log(max(b + n, 1e-300))) for text, (b, n) in beams.items()]
