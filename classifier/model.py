"""The digit CNN: 28x28 MNIST-format crops in, 11 logits out (digits 0-9 and "not a digit")."""

from __future__ import annotations

import copy
from typing import TypeVar

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

__all__ = ["CLASSES", "NOT_A_DIGIT", "DigitNet", "channels_last", "fuse_batchnorm"]

#: Output classes: the ten digits, then one class for crops that hold no single digit
#: (two touching digits, half a digit, a stray stroke). Segmentation uses it to
#: judge candidate cuts; readings report only digits.
CLASSES: tuple[str, ...] = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "reject")
NOT_A_DIGIT = 10


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class DigitNet(nn.Module):
    """A small VGG-style CNN (~0.28 M parameters, ~15 M multiply-adds per crop).

    Input: float32 (N, 1, 28, 28), ink 1.0 on background 0.0, standardized
    inside the network so callers pass plain [0, 1] images. Output: (N, 11) logits.
    """

    def __init__(self, width: int = 32, classes: int = len(CLASSES), dropout: float = 0.3) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _block(1, w),
            nn.MaxPool2d(2),  # 14x14: full-resolution layers cost most on a CPU
            _block(w, 2 * w),
            _block(2 * w, 2 * w),
            nn.MaxPool2d(2),  # 7x7
            _block(2 * w, 4 * w),
            nn.MaxPool2d(2),  # 3x3
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(4 * w * 9, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(128, classes),
        )
        # MNIST's pixel mean and std, so the first layer sees standardized input.
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(0.1307))
        self.register_buffer("std", torch.tensor(0.3081))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features((x - self.mean) / self.std))


M = TypeVar("M", bound=nn.Module)


def fuse_batchnorm(model: M) -> M:
    """A copy of ``model`` in eval mode with every BatchNorm that follows a convolution in a
    ``Sequential`` folded into it (2-D after 2-D, 1-D after 1-D): the same function (to float
    rounding) with one layer fewer per block, for inference. Serves the digit CNN, the line
    models and the benchmarks' whole-photo glance."""
    fused = copy.deepcopy(model).eval()
    for module in list(fused.modules()):
        if isinstance(module, nn.Sequential):
            for k in range(len(module) - 1):
                conv, norm = module[k], module[k + 1]
                if (isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d)) or (
                    isinstance(conv, nn.Conv1d) and isinstance(norm, nn.BatchNorm1d)
                ):
                    module[k] = fuse_conv_bn_eval(conv, norm)
                    module[k + 1] = nn.Identity()
    return fused


def channels_last(model: M) -> M:
    """``model`` (in place) with its weights in the channels-last memory layout: oneDNN's
    convolutions and pooling run faster on it on a CPU, in inference and in training, and the
    function is the same (to float rounding). Inputs go in as ``x.contiguous(memory_format=
    torch.channels_last)``. Checkpoints are written in the plain layout whatever the model's."""
    return model.to(memory_format=torch.channels_last)  # type: ignore[call-overload,no-any-return]  # torch's stubs lack memory_format
