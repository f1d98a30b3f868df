from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from datasets import mnist
from datasets.mnist import MnistError, download_mnist, load_mnist, parse_idx


def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_fake(directory: Path, n: int = 7) -> dict[str, str]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 3),
    }
    sums = {}
    for name, array in arrays.items():
        data = gzip.compress(_idx(array), mtime=0)
        (directory / name).write_bytes(data)
        sums[name] = hashlib.md5(data).hexdigest()
    return sums


def test_parse_idx_round_trip() -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(parse_idx(_idx(array)), array)


@pytest.mark.parametrize("blob", [b"", b"\x00\x00\x0d\x01", _idx(np.zeros((2, 2), np.uint8))[:-1]])
def test_parse_idx_rejects_malformed(blob: bytes) -> None:
    with pytest.raises(MnistError):
        parse_idx(blob)


def test_real_mnist_shapes(mnist_test) -> None:  # type: ignore[no-untyped-def]
    assert mnist_test.images.shape == (10000, 28, 28)
    assert mnist_test.images.dtype == np.uint8
    assert np.bincount(mnist_test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_checksum_mismatch_is_an_error(tmp_path: Path) -> None:
    _write_fake(tmp_path)
    with pytest.raises(MnistError, match="MD5"):
        load_mnist("train", tmp_path)
    split = load_mnist("train", tmp_path, verify=False)
    assert len(split) == 7 and split.images.shape == (7, 28, 28)


def test_directory_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_fake(tmp_path)
    monkeypatch.setenv("SEQDIGITS_DATA", str(tmp_path))
    assert mnist.default_directory() == tmp_path
    assert len(load_mnist("test", verify=False)) == 3


def test_missing_files_say_where_they_were_looked_for(tmp_path: Path) -> None:
    with pytest.raises(MnistError, match=str(tmp_path)):
        load_mnist("test", tmp_path)


def test_download_verifies_and_falls_back_to_next_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good, bad, target = tmp_path / "good", tmp_path / "bad", tmp_path / "target"
    good.mkdir(), bad.mkdir()
    sums = _write_fake(good)
    for name in sums:  # the first mirror serves damaged files
        (bad / name).write_bytes(b"not the file")
    monkeypatch.setattr(mnist, "FILES", sums)

    servers = []
    for root in (bad, good):
        handler = lambda *a, root=root, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **k)  # noqa: E731
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        mirrors = tuple(f"http://127.0.0.1:{s.server_address[1]}/" for s in servers)
        download_mnist(target, mirrors=mirrors, timeout=5)
    finally:
        for s in servers:
            s.shutdown()
    assert sorted(p.name for p in target.iterdir()) == sorted(sums)
    assert load_mnist("train", target).labels.shape == (7,)


def test_download_fails_loudly_when_no_mirror_has_the_file(tmp_path: Path) -> None:
    with pytest.raises(MnistError, match="could not download"):
        download_mnist(tmp_path, mirrors=("http://127.0.0.1:9/",), timeout=1)
    assert not any(tmp_path.iterdir())
