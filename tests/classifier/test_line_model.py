from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier import line_model
from classifier.line_model import (
    STACKED_LINES,
    LineEnsemble,
    LineNet,
    LineReader,
    StackedGRU,
    batch_lines,
    ctc_alignment,
    ctc_beam_search,
    ctc_log_likelihoods,
    default_line_ensemble_path,
    default_line_weights_path,
    ensemble_candidates,
    ensemble_log_likelihoods,
    frames,
    load_line_ensemble,
    read_lines,
    save_line_checkpoint,
    write_line_ensemble,
)
from classifier.predict import CheckpointError
from classifier.preprocess import LineConfig


def _random_log_probs(frames_: int, seed: int) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(0.0, 2.0, (frames_, 11))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def _exact_distribution(log_probs: np.ndarray) -> dict[str, float]:
    """P(text) by summing every frame-by-frame path (11 ** frames of them) and collapsing it."""
    probs = np.exp(log_probs)
    out: dict[str, float] = {}
    for path in itertools.product(range(11), repeat=len(probs)):
        p = float(np.prod([probs[t, c] for t, c in enumerate(path)]))
        text = "".join(str(c - 1) for t, c in enumerate(path) if c != 0 and (t == 0 or c != path[t - 1]))
        out[text] = out.get(text, 0.0) + p
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ctc_likelihoods_equal_the_sum_over_all_paths(seed: int) -> None:
    log_probs = _random_log_probs(4, seed)
    exact = _exact_distribution(log_probs)
    texts = ["", "3", "33", "303", "1234", "12345", "7"]
    found = ctc_log_likelihoods(log_probs, texts)
    for text, value in zip(texts, found):
        if text in exact:
            assert value == pytest.approx(math.log(exact[text]), abs=1e-9)
        else:  # five digits cannot fit in four frames
            assert value == -math.inf or value < -1e3


def test_ctc_likelihoods_read_in_parts_are_the_same(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    log_probs = _random_log_probs(40, 5)
    texts = ["", "7", "12345", "1" * 19, "90210", "0" * 25, "31415926"]
    whole = ctc_log_likelihoods(log_probs, texts)
    # 25 zeros need 49 frames: impossible on 40.
    assert math.isinf(whole[5]) and all(math.isfinite(v) for k, v in enumerate(whole) if k != 5)
    # Each part at most 1 000 cells (frames x (2 x longest + 1) x texts), or one text alone.
    monkeypatch.setattr(line_model, "CTC_CELLS", 1000)
    parts: list[tuple[int, int]] = []
    loss = line_model.F.ctc_loss

    def counted(lp, targets, frames_, lengths, **kwargs):  # type: ignore[no-untyped-def]
        parts.append((lp.shape[1], lp.shape[0] * (2 * int(lengths.max()) + 1) * lp.shape[1]))
        return loss(lp, targets, frames_, lengths, **kwargs)

    monkeypatch.setattr(line_model.F, "ctc_loss", counted)
    assert ctc_log_likelihoods(log_probs, texts) == whole
    assert [n for n, _ in parts] == [2, 1, 1, 1, 1, 1]
    assert all(cells <= 1000 or n == 1 for n, cells in parts)
    assert ctc_log_likelihoods(log_probs, []) == []


@given(st.integers(1, 6), st.text("123", max_size=3), st.integers(0, 2**32 - 1))
@settings(max_examples=150, deadline=None)
def test_ctc_alignment_is_the_likeliest_path_that_spells_the_text(frames: int, text: str, seed: int) -> None:
    log_probs = _random_log_probs(frames, seed)
    best: tuple[float, tuple[int, ...]] | None = None
    # Every frame-by-frame path over a blank and the text's own digits.
    for path in itertools.product([0, *sorted({int(ch) + 1 for ch in text})], repeat=frames):
        spelled = "".join(str(c - 1) for t, c in enumerate(path) if c != 0 and (t == 0 or c != path[t - 1]))
        score = float(sum(log_probs[t, c] for t, c in enumerate(path)))
        if spelled == text and (best is None or score > best[0]):
            best = (score, path)
    found = ctc_alignment(log_probs, text)
    if best is None:  # more digits (and blanks between repeats) than frames
        assert found is None
        return
    spans: list[list[int]] = []
    for t, c in enumerate(best[1]):
        if c != 0 and (t == 0 or c != best[1][t - 1]):
            spans.append([t, t])
        elif c != 0:
            spans[-1][1] = t
    assert found == [tuple(span) for span in spans]


@pytest.mark.parametrize("seed", [3, 4])
def test_beam_search_finds_the_most_likely_texts(seed: int) -> None:
    log_probs = _random_log_probs(4, seed)
    exact = sorted(_exact_distribution(log_probs).items(), key=lambda kv: -kv[1])
    found = ctc_beam_search(log_probs, width=400, floor=0.0)
    assert [text for text, _ in found[:5]] == [text for text, _ in exact[:5]]
    for (_, value), (_, p) in zip(found[:5], exact[:5]):
        assert value == pytest.approx(math.log(p), abs=1e-9)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_beam_search_extends_a_frame_only_by_the_digits_over_the_floor(seed: int) -> None:
    # A digit under the floor in a frame is not read there: the search must find the
    # distribution over the paths that use, in each frame, a blank or a digit over the floor:
    # some frames hold several such digits, one none at all.
    log_probs = _random_log_probs(4, seed)
    log_probs[2, 1:] -= 12.0  # no digit over the floor in the third frame
    log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
    floor = float(np.median(np.exp(log_probs[:, 1:])))
    allowed = np.exp(log_probs) >= floor
    allowed[:, 0] = True
    exact: dict[str, float] = {}
    for path in itertools.product(range(11), repeat=4):
        if all(allowed[t, c] for t, c in enumerate(path)):
            text = "".join(str(c - 1) for t, c in enumerate(path) if c != 0 and (t == 0 or c != path[t - 1]))
            exact[text] = exact.get(text, 0.0) + float(np.prod([np.exp(log_probs[t, c]) for t, c in enumerate(path)]))
    # (The search also lists texts it reached with no probability, a repeated digit with no
    # blank between: their log-probability is that of 1e-300.)
    found = [(text, value) for text, value in ctc_beam_search(log_probs, width=400, floor=floor) if value > -600.0]
    assert sorted(text for text, _ in found) == sorted(exact)
    for text, value in found:
        assert value == pytest.approx(math.log(exact[text]), abs=1e-9)


@pytest.mark.parametrize("stride", [4, 2])
def test_a_padded_batch_gives_each_line_its_own_result(stride: int) -> None:
    torch.manual_seed(0)
    model = LineNet(width=8, hidden=16, stride=stride).eval()
    reader = LineReader(model=model, config=LineConfig(), temperature=1.0, metrics={})
    rng = np.random.default_rng(5)
    short = (rng.random((32, 40)) > 0.8).astype(np.uint8) * 255
    long = (rng.random((32, 97)) > 0.8).astype(np.uint8) * 255
    together = reader.log_probs([short, long])
    alone = [reader.log_probs([short])[0], reader.log_probs([long])[0]]
    assert [lp.shape for lp in together] == [(frames(40, stride), 11), (frames(97, stride), 11)]
    assert [lp.shape[0] for lp in together] == ([10, 25] if stride == 4 else [20, 49])
    for a, b in zip(together, alone):
        np.testing.assert_allclose(a, b, atol=1e-5)
        np.testing.assert_allclose(np.exp(a).sum(axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize("stride", [4, 2])
def test_a_loaded_line_model_is_folded_and_reads_as_the_trained_one(tmp_path, stride: int) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(3)
    model = LineNet(width=8, hidden=16, stride=stride)
    model.train()
    for _ in range(3):  # running statistics other than their initial values
        model(torch.rand(4, 1, 32, 48), torch.tensor([12, 12, 12, 12]))
    model.eval()
    save_line_checkpoint(tmp_path / "l.pt", model, config=LineConfig(), temperature=1.3, metrics={})
    loaded = LineReader.load(tmp_path / "l.pt")
    assert loaded.model.stride == stride
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in loaded.model.modules())
    trained = LineReader(model=model, config=LineConfig(), temperature=1.3, metrics={})
    rng = np.random.default_rng(8)
    lines = [(rng.random((32, w)) > 0.8).astype(np.uint8) * 255 for w in (40, 97, 64)]
    for a, b in zip(loaded.log_probs(lines), trained.log_probs(lines)):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_stacked_grus_read_as_torchs_each_line_to_its_own_end() -> None:
    torch.manual_seed(6)
    grus = [torch.nn.GRU(12, 16, bidirectional=True, batch_first=True) for _ in range(3)]
    stacked = StackedGRU.of(grus)
    assert stacked is not None and stacked.w_hidden.shape == (6, 16, 48)
    rng = np.random.default_rng(6)
    # Three lines; the models read them at different frame counts (strides), one line full length.
    widths, lengths = [9, 20, 14], [np.array([9, 5, 2]), np.array([20, 17, 1]), np.array([3, 14, 14])]
    seqs = [rng.normal(0.0, 1.0, (3, w, 12)).astype(np.float32) for w in widths]
    outs = stacked(seqs, lengths)
    for gru, seq, length, out in zip(grus, seqs, lengths, outs):
        assert out.shape == (3, seq.shape[1], 32) and out.dtype == np.float32
        for i, n in enumerate(length):
            with torch.inference_mode():
                alone = gru(torch.from_numpy(seq[i : i + 1, :n]))[0][0].numpy()
            np.testing.assert_allclose(out[i, :n], alone, atol=1e-5)
            assert not out[i, n:].any()


def test_grus_of_other_shapes_are_not_stacked() -> None:
    wide, narrow = (torch.nn.GRU(12, h, bidirectional=True, batch_first=True) for h in (16, 8))
    assert StackedGRU.of([wide, narrow]) is None
    assert StackedGRU.of([torch.nn.GRU(12, 16, batch_first=True)]) is None
    assert StackedGRU.of([torch.nn.GRU(12, 16, bidirectional=True)]) is None
    assert StackedGRU.of([torch.nn.GRU(12, 16, num_layers=2, bidirectional=True, batch_first=True)]) is None
    assert StackedGRU.of([]) is None


def test_an_ensemble_reads_alike_stepping_its_grus_together_or_each_alone() -> None:
    torch.manual_seed(9)
    readers = tuple(
        LineReader(model=LineNet(width=8, hidden=16, stride=s).eval(), config=LineConfig(), temperature=t, metrics={})
        for s, t in ((2, 1.2), (4, 0.9))
    )
    ensemble = LineEnsemble(readers, temperature=0.8)
    assert ensemble.gru is not None and all(reader.gru is not None for reader in readers)
    rng = np.random.default_rng(9)
    lines = [(rng.random((32, w)) > 0.8).astype(np.uint8) * 255 for w in (40, 97, 64, 23, 50, 71)]
    assert len(lines) > STACKED_LINES  # all six through each model's own GRU
    each = read_lines(readers, [lines, lines], sharpen=0.8)
    together = [ensemble.log_probs([lines[k : k + 2], lines[k : k + 2]]) for k in range(0, len(lines), 2)]
    for m in range(2):
        assert [lp.shape[0] for lp in each[m]] == [frames(line.shape[1], readers[m].model.stride) for line in lines]
        for a, b in zip(each[m], [lp for part in together for lp in part[m]]):
            np.testing.assert_allclose(a, b, atol=1e-5)


def test_batch_pads_to_a_multiple_of_the_stride() -> None:
    x, lengths = batch_lines([np.full((32, 9), 255, np.uint8), np.zeros((32, 30), np.uint8)])
    assert x.shape == (2, 1, 32, 32)
    assert lengths.tolist() == [3, 8]
    assert float(x[0, 0, :, :9].min()) == 1.0 and float(x[0, 0, :, 9:].max()) == 0.0
    # At stride 2 the same padded input, twice the frames.
    x2, lengths2 = batch_lines([np.full((32, 9), 255, np.uint8), np.zeros((32, 30), np.uint8)], 2)
    assert torch.equal(x2, x) and lengths2.tolist() == [5, 15]


def test_a_checkpoint_without_a_stride_reads_at_stride_4_and_other_strides_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(2)
    model = LineNet(width=8, hidden=16)
    path = tmp_path / "old.pt"
    save_line_checkpoint(path, model, config=LineConfig(), temperature=1.0, metrics={})
    payload = torch.load(path, weights_only=True)
    del payload["stride"]  # as written before the stride was an option
    torch.save(payload, path)
    reader = LineReader.load(path)
    assert reader.model.stride == 4 and reader.log_probs([np.zeros((32, 40), np.uint8)])[0].shape == (10, 11)
    with pytest.raises(ValueError, match="stride"):
        LineNet(width=8, hidden=16, stride=3)


def test_checkpoint_round_trip_and_bad_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(1)
    model = LineNet(width=8, hidden=16)
    path = tmp_path / "line.pt"
    save_line_checkpoint(path, model, config=LineConfig(digit_height=20), temperature=1.5, metrics={"a": 1})
    reader = LineReader.load(path)
    assert reader.config == LineConfig(digit_height=20) and reader.temperature == 1.5 and reader.metrics == {"a": 1}
    assert not reader.model.training
    with pytest.raises(CheckpointError, match="not found"):
        LineReader.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        LineReader.load(tmp_path / "junk.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a seqdigits line model"):
        LineReader.load(tmp_path / "other.pt")


@pytest.mark.parametrize("seed", [0, 1])
def test_an_ensemble_gives_each_text_the_mean_of_the_models_probabilities(seed: int) -> None:
    a, b = _random_log_probs(4, seed), _random_log_probs(4, seed + 10)
    exact_a, exact_b = _exact_distribution(a), _exact_distribution(b)
    texts = ["", "3", "33", "303", "1234"]
    found = ensemble_log_likelihoods([a, b], texts)
    assert found.shape == (5,)
    for text, value in zip(texts, found):
        assert value == pytest.approx(math.log((exact_a.get(text, 0.0) + exact_b.get(text, 0.0)) / 2), abs=1e-9)
    # One model is that model; a model twice is that model too.
    assert ensemble_log_likelihoods([a], texts).tolist() == ctc_log_likelihoods(a, texts)
    np.testing.assert_allclose(ensemble_log_likelihoods([a, a], texts), ctc_log_likelihoods(a, texts), atol=1e-12)


def test_an_ensemble_keeps_an_impossible_text_impossible() -> None:
    a, b = _random_log_probs(4, 7), _random_log_probs(4, 8)
    # Five digits need at least five frames: impossible under both models, and no NaN.
    assert ensemble_log_likelihoods([a, b], ["12345"]).tolist() == [-math.inf]


def test_ensemble_candidates_are_every_models_beam_once() -> None:
    a, b = _random_log_probs(5, 3), _random_log_probs(5, 4)
    expected = [text for text, _ in ctc_beam_search(a, width=3)]
    expected += [text for text, _ in ctc_beam_search(b, width=3) if text not in expected]
    assert ensemble_candidates([a, b], width=3) == expected
    assert ensemble_candidates([a, a], width=3) == [text for text, _ in ctc_beam_search(a, width=3)]


def test_sharpening_divides_the_calibrated_logits_once_more() -> None:
    torch.manual_seed(4)
    reader = LineReader(model=LineNet(width=8, hidden=16).eval(), config=LineConfig(), temperature=1.5, metrics={})
    line = (np.random.default_rng(6).random((32, 50)) > 0.8).astype(np.uint8) * 255
    plain, sharp = reader.log_probs([line])[0], reader.log_probs([line], sharpen=0.5)[0]
    twice = plain / 0.5
    np.testing.assert_allclose(sharp, twice - np.log(np.exp(twice).sum(axis=1, keepdims=True)), atol=1e-9)


def _tiny_checkpoints(folder: Path, count: int = 2) -> list[Path]:
    torch.manual_seed(2)
    paths = []
    for k in range(count):
        paths.append(folder / f"line{k}.pt")
        save_line_checkpoint(paths[-1], LineNet(width=8, hidden=16), config=LineConfig(), temperature=1.0 + k, metrics={})
    return paths


def test_load_line_ensemble_from_checkpoints_or_an_ensemble_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = _tiny_checkpoints(tmp_path)
    one = load_line_ensemble(paths[1])
    assert [r.temperature for r in one.readers] == [2.0] and one.temperature == 1.0
    assert [r.temperature for r in load_line_ensemble(str(paths[0])).readers] == [1.0]
    assert [r.temperature for r in load_line_ensemble([paths[1]]).readers] == [2.0]
    both = load_line_ensemble(paths)
    assert [r.temperature for r in both.readers] == [1.0, 2.0] and both.temperature == 1.0
    # An ensemble file names its models relative to itself: a copied folder still loads.
    write_line_ensemble(tmp_path / "lines.json", paths, temperature=0.8, metrics={"fit_lines": 7})
    document = json.loads((tmp_path / "lines.json").read_text())
    assert document["models"] == ["line0.pt", "line1.pt"]
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path, copy, ignore=shutil.ignore_patterns("copy"))
    for source in (tmp_path / "lines.json", [str(copy / "lines.json")]):
        ensemble = load_line_ensemble(source)
        assert [r.temperature for r in ensemble.readers] == [1.0, 2.0]
        assert ensemble.temperature == 0.8 and ensemble.metrics == {"fit_lines": 7}
        assert ensemble.calibration == (1.0, 0.0)
    write_line_ensemble(tmp_path / "tuned.json", paths, temperature=0.8, metrics={}, calibration=(1.25, 0.5))
    assert load_line_ensemble(tmp_path / "tuned.json").calibration == (1.25, 0.5)
    # Files written before there was a calibration read as uncalibrated.
    del document["calibration"]
    (tmp_path / "old.json").write_text(json.dumps(document))
    assert load_line_ensemble(tmp_path / "old.json").calibration == (1.0, 0.0)


def test_calibration_is_an_increasing_map_of_probabilities(tmp_path) -> None:  # type: ignore[no-untyped-def]
    reader = load_line_ensemble(_tiny_checkpoints(tmp_path)[0]).readers[0]
    plain, tuned = LineEnsemble((reader,)), LineEnsemble((reader,), calibration=(1.5, 0.7))
    grid = [0.0, 1e-9, 0.01, 0.2, 0.5, 0.8, 0.99, 1.0 - 1e-12, 1.0]
    assert [plain.calibrate(p) for p in grid] == grid
    mapped = [tuned.calibrate(p) for p in grid]
    assert mapped[0] == 0.0 and mapped[-1] == 1.0 and all(a < b for a, b in itertools.pairwise(mapped[1:-1]))
    assert tuned.calibrate(0.5) == pytest.approx(1.0 / (1.0 + math.exp(-0.7)), rel=1e-12)
    assert tuned.calibrate(0.8) == pytest.approx(1.0 / (1.0 + math.exp(-(1.5 * math.log(4.0) + 0.7))), rel=1e-12)
    for bad in ((0.0, 0.0), (-1.0, 0.0), (1.0, math.inf)):
        with pytest.raises(ValueError, match="calibration"):
            LineEnsemble((reader,), calibration=bad)


def test_line_ensemble_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = _tiny_checkpoints(tmp_path)
    write_line_ensemble(tmp_path / "lines.json", paths, temperature=0.8, metrics={})
    with pytest.raises(CheckpointError, match="no line weights"):
        load_line_ensemble([])
    with pytest.raises(CheckpointError, match="not found"):
        load_line_ensemble([paths[0], tmp_path / "missing.pt"])
    with pytest.raises(CheckpointError, match="on its own"):
        load_line_ensemble([paths[0], tmp_path / "lines.json"])
    with pytest.raises(CheckpointError, match="line ensemble not found"):
        load_line_ensemble(tmp_path / "missing.json")
    bad = {
        "junk.json": "{not json",
        "other.json": json.dumps({"format": "something else", "models": ["line0.pt"]}),
        "empty.json": json.dumps({"format": "seqdigits-line-ensemble/1", "models": []}),
        "cold.json": json.dumps({"format": "seqdigits-line-ensemble/1", "models": ["line0.pt"], "temperature": -1}),
        "gone.json": json.dumps({"format": "seqdigits-line-ensemble/1", "models": ["line0.pt", "nope.pt"]}),
        "flat.json": json.dumps({"format": "seqdigits-line-ensemble/1", "models": ["line0.pt"], "calibration": {"scale": 0, "shift": 0}}),
        "half.json": json.dumps({"format": "seqdigits-line-ensemble/1", "models": ["line0.pt"], "calibration": {"scale": 1.2}}),
        "word.json": json.dumps({"format": "seqdigits-line-ensemble/1", "models": ["line0.pt"], "calibration": [1.0, 0.0]}),
    }
    messages = {"junk.json": "cannot read", "other.json": "not a seqdigits line ensemble", "empty.json": "non-empty list",
                "cold.json": "positive number", "gone.json": "not found", "flat.json": "calibration", "half.json": "calibration",
                "word.json": "calibration"}
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(CheckpointError, match=messages[name]):
            load_line_ensemble(tmp_path / name)
    reader = load_line_ensemble(paths[0]).readers[0]
    with pytest.raises(ValueError, match="at least one"):
        LineEnsemble(())
    with pytest.raises(ValueError, match="positive"):
        LineEnsemble((reader,), temperature=0.0)


def _packaged_members() -> list[Path]:
    manifest = default_line_ensemble_path()
    return [manifest.parent / name for name in json.loads(manifest.read_text())["models"]]


def test_the_packaged_ensemble_is_its_files_models_and_temperature() -> None:
    ensemble = load_line_ensemble()
    members = _packaged_members()
    assert len(ensemble.readers) == len(members) == 3
    # Trained alike but for the seed of their initialization and lines, all at stride 2 (README):
    # twice the frames of stride 4, for touching repeated digits.
    assert len({r.metrics["config"]["seed"] for r in ensemble.readers}) == 3
    assert [r.model.stride for r in ensemble.readers] == [2, 2, 2]
    assert members[0] == default_line_weights_path()
    assert [r.metrics for r in ensemble.readers] == [LineReader.load(p).metrics for p in members]
    assert ensemble.temperature == ensemble.metrics["temperature"]
    # Fitted on lines of the digits every member held out (README): none trained on them.
    seeds = {r.metrics["config"].get("split_seed", r.metrics["config"]["seed"]) for r in ensemble.readers}
    assert seeds == {ensemble.metrics["config"]["split_seed"]}
    assert ensemble.metrics["nll_per_line_fitted"] <= ensemble.metrics["nll_per_line_at_temperature_1"]
    # Its readings' calibration, as fitted (README): closer to the share of readings right.
    assert ensemble.calibration == tuple(ensemble.metrics["calibration"]) != (1.0, 0.0)
    assert ensemble.metrics["calibration_error_after"] < ensemble.metrics["calibration_error_before"]


def test_shipped_line_model_records_how_it_was_trained() -> None:
    reader = LineReader.load(default_line_weights_path())
    metrics = reader.metrics
    assert metrics["config"]["lines"] >= 10000
    # Measured when the shipped weights were trained (README): held-out digits and MNIST test digits.
    assert metrics["validation_sequence_accuracy"] >= 0.9
    assert metrics["test_sequence_accuracy"] >= 0.88
    assert 0.3 < reader.temperature < 3.0


def test_the_shipped_ensemble_reads_better_than_each_of_its_models() -> None:
    # Measured by `seqdigits fit-ensemble` (README) on the same lines for the ensemble and for
    # each model alone (best of its beam): held-out training digits and MNIST test digits.
    ensemble = load_line_ensemble()
    metrics = ensemble.metrics
    assert metrics["fit_lines"] >= 1000
    assert metrics["validation_sequence_accuracy"] >= 0.9
    assert metrics["validation_sequence_accuracy"] > max(metrics["member_validation_sequence_accuracy"])
    assert metrics["test_sequence_accuracy"] > max(metrics["member_test_sequence_accuracy"])
    for reader in ensemble.readers:
        assert reader.metrics["config"]["lines"] >= 10000 and 0.3 < reader.temperature < 3.0
