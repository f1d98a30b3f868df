"""Shared fixtures. MNIST comes from $SEQDIGITS_DATA or ../shared/data/mnist (never the network)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datasets.mnist import MnistError, MnistSplit, load_mnist
from datasets.synth import LineGenerator, SynthConfig

ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    env = os.environ.get("SEQDIGITS_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_test() -> MnistSplit:
    try:
        return load_mnist("test", _data_dir())
    except MnistError as exc:
        if os.environ.get("SEQDIGITS_REQUIRE_DATA") == "1":
            raise
        pytest.skip(f"MNIST not available: {exc}")


@pytest.fixture(scope="session")
def mnist_dir(mnist_test: MnistSplit) -> Path:
    """The MNIST directory the tests read (skips as ``mnist_test`` does where it is missing)."""
    return _data_dir()


@pytest.fixture(scope="session")
def recognizer():  # type: ignore[no-untyped-def]
    from seqdigits import load_recognizer

    return load_recognizer()


@pytest.fixture(scope="session")
def cnn_recognizer():  # type: ignore[no-untyped-def]
    """A recognizer without the line model: the digit CNN's best path alone."""
    from seqdigits import load_recognizer

    return load_recognizer(line_model=False)


@pytest.fixture()
def lines(mnist_test: MnistSplit) -> LineGenerator:
    return LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(), seed=1234)


def png_bytes(image: np.ndarray, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, **params)
    return buffer.getvalue()


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"
