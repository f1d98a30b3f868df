"""MNIST from the four standard IDX files: find, verify, download, parse.

The directory is resolved in this order: the ``directory`` argument, the
``SEQDIGITS_DATA`` environment variable, then a per-user cache directory
(``$XDG_CACHE_HOME/seqdigits/mnist``). Where the files are missing and
``download=True``, they are fetched from the canonical mirrors and their
published MD5 checksums are verified before they are used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "FILES",
    "MIRRORS",
    "MnistError",
    "MnistSplit",
    "default_directory",
    "download_mnist",
    "load_mnist",
    "parse_idx",
]

ENV_VAR = "SEQDIGITS_DATA"

#: file name -> published MD5 of the canonical ``.gz`` release.
FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

#: Tried in order; the files are byte-identical on each.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class MnistError(RuntimeError):
    """MNIST could not be found, downloaded, verified or parsed."""


@dataclass(frozen=True, slots=True)
class MnistSplit:
    """One split: ``images`` uint8 (N, 28, 28) white on black, ``labels`` int64 (N,)."""

    images: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def default_directory() -> Path:
    """The directory used when none is given: ``$SEQDIGITS_DATA`` or the user cache."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(cache) / "seqdigits" / "mnist"


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_mnist(
    directory: str | os.PathLike[str] | None = None,
    *,
    mirrors: tuple[str, ...] = MIRRORS,
    timeout: float = 60.0,
) -> Path:
    """Download whichever of the four files are missing into ``directory``.

    Each file is written under a temporary name, checked against its MD5 and
    only then moved into place, so a failed or tampered download never leaves a
    file that later passes for MNIST. Returns the directory.
    """
    root = Path(directory) if directory is not None else default_directory()
    root.mkdir(parents=True, exist_ok=True)
    for name, md5 in FILES.items():
        target = root / name
        if target.exists() and _md5(target) == md5:
            continue
        errors: list[str] = []
        for mirror in mirrors:
            fd, tmp_name = tempfile.mkstemp(dir=root, prefix=f".{name}.")
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(  # noqa: S310 - fixed https/http mirrors
                    mirror + name, timeout=timeout
                ) as response:
                    shutil.copyfileobj(response, out)
                got = _md5(tmp)
                if got != md5:
                    errors.append(f"{mirror}: checksum {got} != {md5}")
                    continue
                tmp.replace(target)
                break
            except (urllib.error.URLError, OSError) as exc:
                errors.append(f"{mirror}: {exc}")
            finally:
                tmp.unlink(missing_ok=True)
        else:
            raise MnistError(f"could not download {name}: " + "; ".join(errors))
    return root


def parse_idx(data: bytes) -> npt.NDArray[np.uint8]:
    """Parse one uncompressed IDX blob of unsigned bytes into an array of its shape."""
    if len(data) < 4:
        raise MnistError("IDX data is shorter than its header")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise MnistError(f"not an unsigned-byte IDX file (magic {data[:4].hex()})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MnistError("IDX data is shorter than its header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != expected:
        raise MnistError(f"IDX body has {len(data) - header} bytes, its header says {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def _read_verified(path: Path, *, verify: bool) -> npt.NDArray[np.uint8]:
    if verify:
        got = _md5(path)
        if got != FILES[path.name]:
            raise MnistError(f"{path} has MD5 {got}, expected {FILES[path.name]}")
    try:
        with gzip.open(path, "rb") as fh:
            return parse_idx(fh.read())
    except (OSError, EOFError) as exc:
        raise MnistError(f"{path} is not a readable gzip file: {exc}") from exc


def load_mnist(
    split: Literal["train", "test"],
    directory: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    verify: bool = True,
) -> MnistSplit:
    """Load one MNIST split from ``directory`` (see the module doc for the lookup order).

    Raises :class:`MnistError` when the files are missing (and ``download`` is
    false or fails), fail their checksum, or are malformed.
    """
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    root = Path(directory).expanduser() if directory is not None else default_directory()
    paths = [root / name for name in _SPLIT_FILES[split]]
    if not all(p.exists() for p in paths):
        if not download:
            missing = ", ".join(p.name for p in paths if not p.exists())
            raise MnistError(
                f"MNIST {split} files not found in {root} (missing {missing}); pass a directory, "
                f"set {ENV_VAR}, or allow download"
            )
        download_mnist(root)
    images = _read_verified(paths[0], verify=verify)
    labels = _read_verified(paths[1], verify=verify).astype(np.int64)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise MnistError(f"inconsistent MNIST shapes {images.shape} and {labels.shape}")
    return MnistSplit(images=images, labels=labels)
