"""Load a checkpoint and classify batches of crops."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from classifier.model import CLASSES, NOT_A_DIGIT, DigitNet, channels_last, fuse_batchnorm
from classifier.preprocess import PreprocessConfig, normalize_batch

__all__ = ["CheckpointError", "DigitClassifier", "default_weights_path", "digit_probabilities", "load_checkpoint", "load_weights", "read_payload", "save_checkpoint", "write_payload"]

FORMAT = "seqdigits-digitnet/1"


class CheckpointError(RuntimeError):
    """A weights file is missing, unreadable or of another format."""


def default_weights_path() -> Path:
    """The weights shipped inside the package (``classifier/weights/digitnet.pt``)."""
    return Path(str(resources.files("classifier") / "weights" / "digitnet.pt"))


def save_checkpoint(
    path: str | os.PathLike[str],
    model: DigitNet,
    *,
    width: int,
    preprocess: PreprocessConfig,
    temperature: float,
    metrics: dict[str, Any],
) -> None:
    """Write weights, the preprocessing they were trained with, and the calibration."""
    write_payload(
        path, FORMAT, model,
        classes=list(CLASSES), width=width, preprocess=preprocess.to_dict(), temperature=float(temperature), metrics=metrics,
    )


def write_payload(path: str | os.PathLike[str], fmt: str, model: torch.nn.Module, **fields: Any) -> None:
    """Save ``model``'s weights (tensors only) as a checkpoint of format ``fmt`` with ``fields``
    beside them; :func:`read_payload` reads it back."""
    # Plain contiguous tensors, whatever memory layout the model trained in (training runs
    # channels-last): a checkpoint reads the same into any model.
    state = {k: v.detach().cpu().clone(memory_format=torch.contiguous_format) for k, v in model.state_dict().items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": fmt, **fields, "state_dict": state}, path)


def read_payload(path: str | os.PathLike[str], fmt: str, *, what: str = "weights", kind: str = "seqdigits checkpoint") -> dict[str, Any]:
    """The dict a checkpoint of format ``fmt`` holds (tensors only, no pickled code). Raises
    :class:`CheckpointError` naming ``what`` file and the ``kind`` expected."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise CheckpointError(f"{what} file not found: {path}") from exc
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(f"cannot read {what} file {path}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise CheckpointError(f"{path} is not a {kind} ({fmt})")
    return payload


def load_weights(model: torch.nn.Module, payload: dict[str, Any], *, what: str = "weights") -> None:
    """Put a checkpoint's ``state_dict`` into ``model``; :class:`CheckpointError` naming ``what``
    when the tensors do not fit the network."""
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as exc:
        raise CheckpointError(f"{what} do not fit the network: {exc}") from exc


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`."""
    payload = read_payload(path, FORMAT)
    if tuple(payload.get("classes", ())) != CLASSES:
        raise CheckpointError(f"{path} was trained for classes {payload.get('classes')}, expected {list(CLASSES)}")
    return payload


@dataclass(frozen=True, slots=True)
class DigitClassifier:
    """A trained :class:`DigitNet` with its preprocessing and calibration, ready for inference."""

    model: DigitNet
    preprocess: PreprocessConfig
    temperature: float
    metrics: dict[str, Any]
    chunk: int = 128
    """Crops per forward pass."""

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> DigitClassifier:
        """Load weights (default: the packaged ones), put the model in eval mode and fold its
        BatchNorm layers into the convolutions (inference only ever uses the running statistics)."""
        payload = load_checkpoint(path if path is not None else default_weights_path())
        model = DigitNet(width=int(payload["width"]))
        load_weights(model, payload)
        model.eval()
        return cls(
            # Channels-last: oneDNN's convolutions and pooling run about twice as fast on it.
            model=channels_last(fuse_batchnorm(model)),
            preprocess=PreprocessConfig.from_dict(payload["preprocess"]),
            temperature=float(payload.get("temperature", 1.0)),
            metrics=dict(payload.get("metrics", {})),
        )

    def probabilities(self, images: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Calibrated class probabilities for normalized images.

        ``images``: float32 (N, 28, 28) in [0, 1], as made by
        :func:`~classifier.preprocess.normalize_digit`. Returns float64 (N, 11),
        rows summing to 1; column 10 is "not a single digit". One forward pass.
        """
        if images.shape[0] == 0:
            return np.zeros((0, len(CLASSES)), np.float64)
        with torch.inference_mode():
            batch = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).unsqueeze(1)
            batch = batch.contiguous(memory_format=torch.channels_last)
            # In chunks: a few hundred crops keep the activations in cache; thousands do not.
            logits = torch.cat([self.model(part) for part in batch.split(self.chunk)]) / self.temperature
            return torch.softmax(logits.double(), dim=1).numpy()

    def classify_crops(self, crops: list[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float64]:
        """Normalize raw crops (uint8 (H, W), ink bright) and classify them in one batch: (N, 11)."""
        return self.probabilities(normalize_batch(crops, self.preprocess))


def digit_probabilities(probabilities: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Drop the reject column: (N, 11) -> (N, 10); rows sum to 1 - P(not a digit)."""
    return np.delete(probabilities, NOT_A_DIGIT, axis=1)
