from __future__ import annotations

import json

import pytest

from datasets.synth import LineGenerator, SynthConfig
from seqdigits.cli import main
from tests.conftest import png_bytes


@pytest.fixture()
def photo(mnist_test, tmp_path):  # type: ignore[no-untyped-def]
    line = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated", height=(50, 56)), seed=4).line("2468")
    path = tmp_path / "number.jpg"
    path.write_bytes(png_bytes(line.image, "JPEG", quality=92))
    return path


def test_read_prints_the_digits(photo, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["read", str(photo)]) == 0
    out = capsys.readouterr().out
    assert out.split("\t")[0] == "2468"


def test_two_lines_print_on_one_output_line(mnist_test, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.seqdigits.test_api import _stacked

    sheet, _ = _stacked(mnist_test, "5551234", "12")
    path = tmp_path / "two.png"
    path.write_bytes(png_bytes(sheet))
    assert main(["read", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.split("\t")[0] == "5551234 / 12"
    assert main(["read", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "5551234\n12"


def test_read_json_and_debug_dir(photo, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    debug = tmp_path / "debug"
    assert main(["read", str(photo), "--json", "--debug-dir", str(debug), "--length", "4"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["image"] == str(photo) and record["text"] == "2468"
    assert len(record["characters"]) == 4
    assert (debug / "number.seqdigits.png").stat().st_size > 0


def test_line_weights_repeat_for_an_ensemble(photo, capsys) -> None:  # type: ignore[no-untyped-def]
    from classifier.line_model import default_line_ensemble_path, default_line_weights_path

    first, manifest = str(default_line_weights_path()), str(default_line_ensemble_path())
    readings = []
    for flags in (["--line-weights", first], ["--line-weights", first, "--line-weights", first], ["--line-weights", manifest], []):
        assert main(["read", str(photo), "--json", *flags]) == 0
        readings.append(json.loads(capsys.readouterr().out))
    assert [r["text"] for r in readings] == ["2468"] * 4
    # One model twice is that model; the packaged ensemble file is the default.
    assert readings[1]["confidence"] == pytest.approx(readings[0]["confidence"], abs=1e-9)
    assert readings[3]["confidence"] == readings[2]["confidence"]


def test_fit_ensemble_reports_bad_line_weights(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from classifier.line_model import default_line_weights_path

    missing = tmp_path / "missing.pt"
    assert main(["fit-ensemble", "--line-weights", str(default_line_weights_path()), "--line-weights", str(missing), "--output", str(tmp_path / "e.json")]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "Traceback" not in err
    assert not (tmp_path / "e.json").exists()


def test_bad_files_are_reported_and_the_rest_still_read(photo, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "notes.txt"
    junk.write_text("not an image")
    folder = tmp_path / "scans"
    folder.mkdir()
    assert main(["read", str(junk), str(photo), str(tmp_path / "missing.png"), str(folder)]) == 1
    captured = capsys.readouterr()
    assert "2468" in captured.out
    assert "notes.txt: not a recognised image" in captured.err
    assert "missing.png: no such image file" in captured.err
    assert f"{folder} is a directory, not an image file" in captured.err


def test_bad_arguments_exit_with_usage(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        main(["read", "x.png", "--length", "0"])
    assert exc.value.code == 2


def test_eval_reports_accuracy(capsys, mnist_test, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import _data_dir

    assert main(["eval", "--data", str(_data_dir()), "--lines", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mnist_test"]["accuracy"] >= 0.995
    assert [r["gap"] for r in report["lines"]] == ["wide", "separated", "kissing", "touching", "overlapping", "mixed"]
    # Each line model's own figures come from its checkpoint, the ensemble's from its file.
    from classifier.line_model import load_line_ensemble

    ensemble = load_line_ensemble()
    recorded = [reader.metrics for reader in ensemble.readers]
    assert len(report["line_models"]) == len(recorded) == 3
    for figures, metrics in zip(report["line_models"], recorded):
        assert figures["test_sequence_accuracy"] == metrics["test_sequence_accuracy"]
        assert figures["validation_sequence_accuracy"] == metrics["validation_sequence_accuracy"]
    assert report["line_ensemble"]["temperature"] == ensemble.temperature
    assert report["line_ensemble"]["calibration"] == list(ensemble.calibration)
    assert report["line_ensemble"]["calibration_error_after"] == ensemble.metrics["calibration_error_after"]
    assert report["line_ensemble"]["test_sequence_accuracy"] == ensemble.metrics["test_sequence_accuracy"]


def test_train_passes_its_seeds_on(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import classifier.train as train_module
    from datasets.mnist import MnistError

    seen = []

    def fake_train(config):  # type: ignore[no-untyped-def]
        seen.append(config)
        raise MnistError("stop here")

    monkeypatch.setattr(train_module, "train", fake_train)
    assert main(["train", "--data", str(tmp_path), "--seed", "4", "--split-seed", "0", "--output", str(tmp_path / "w.pt")]) == 2
    assert seen[0].seed == 4 and seen[0].split_seed == 0


def test_train_reports_missing_data(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["train", "--data", str(tmp_path), "--output", str(tmp_path / "w.pt")]) == 2
    assert "MNIST train files not found" in capsys.readouterr().err


def test_read_with_a_pattern(photo, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["read", str(photo), "--pattern", r"\d{4}"]) == 0
    assert capsys.readouterr().out.split("\t")[0] == "2468"
    assert main(["read", str(photo), "--pattern", "four digits"]) == 2
    assert "cannot read pattern" in capsys.readouterr().err
    assert main(["read", str(photo), "--length", "65"]) == 2
    assert "length must be a positive number of digits, at most 64, got 65" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--length", "65"], "at most 64, got 65"),
        (["--pattern", r"\d{5}-\d{100000000}"], "more than 64 digits"),
        (["--pattern", r"\d{5}", "--length", "5"], "give length or pattern, not both"),
        (["--min-confidence", "1.5"], "min_confidence must be within [0, 1], got 1.5"),
    ],
)
def test_read_refuses_options_before_it_loads_weights(photo, tmp_path, capsys, options, message) -> None:  # type: ignore[no-untyped-def]
    # The library's checks, in its words, before a second or two of loading: weights that do not exist are never looked for.
    assert main(["read", str(photo), "--weights", str(tmp_path / "missing.pt"), *options]) == 2
    err = capsys.readouterr().err
    assert message in err and "missing.pt" not in err


def test_missing_weights_are_an_error_not_a_traceback(photo, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import _data_dir

    assert main(["eval", "--data", str(_data_dir()), "--lines", "1", "--line-weights", str(tmp_path / "no.pt")]) == 2
    assert "line weights file not found" in capsys.readouterr().err
    assert main(["read", str(photo), "--line-weights", str(tmp_path / "no.pt")]) == 2
    assert "line weights file not found" in capsys.readouterr().err
    assert main(["train-lines", "--data", str(tmp_path), "--output", str(tmp_path / "l.pt")]) == 2
    assert "MNIST train files not found" in capsys.readouterr().err


def test_train_lines_passes_the_networks_size_on(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import classifier.train_line
    from datasets.mnist import MnistError

    seen = []

    def fake(config):  # type: ignore[no-untyped-def]
        seen.append(config)
        raise MnistError("stopped here")

    monkeypatch.setattr(classifier.train_line, "train_lines", fake)
    assert main(["train-lines", "--data", str(tmp_path), "--width", "48", "--hidden", "192", "--seed", "3"]) == 2
    assert main(["train-lines", "--data", str(tmp_path)]) == 2
    assert main(["train-lines", "--data", str(tmp_path), "--init", "a.pt", "--pens", "0.3", "--learning-rate", "5e-4", "--lines", "40000", "--epochs", "2"]) == 2
    assert [(c.width, c.hidden, c.seed) for c in seen] == [(48, 192, 3), (32, 128, 0), (32, 128, 0)]
    assert [(c.init, c.pens, c.learning_rate, c.lines, c.epochs) for c in seen] == [
        (None, 0.0, 0.002, 60000, 5.0), (None, 0.0, 0.002, 60000, 5.0), ("a.pt", 0.3, 5e-4, 40000, 2.0),
    ]
    with pytest.raises(SystemExit):
        main(["train-lines", "--pens", "1.5"])


def test_read_takes_an_image_on_standard_input(photo, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(photo.read_bytes())))
    debug = tmp_path / "debug"
    assert main(["read", "-", "--json", "--debug-dir", str(debug)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["image"] == "-" and record["text"] == "2468"
    assert (debug / "stdin.seqdigits.png").stat().st_size > 0
    # Nothing (or not an image) on standard input is reported like a bad file; the rest still read.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert main(["read", "-", str(photo)]) == 1
    captured = capsys.readouterr()
    assert "-: the image is empty" in captured.err and "2468" in captured.out
    monkeypatch.setattr(sys, "stdin", None)  # started with standard input closed
    assert main(["read", "-"]) == 1
    assert "-: the image is empty" in capsys.readouterr().err
    assert main(["read", "-", "-"]) == 2
    assert "give - once" in capsys.readouterr().err


def test_many_images_are_read_sixteen_at_a_time_and_printed_in_order(photo, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from seqdigits.recognizer import Recognizer

    calls = []
    read_each = Recognizer.read_each

    def spy(self, images, **options):  # type: ignore[no-untyped-def]
        calls.append(len(images))
        return read_each(self, images, **options)

    monkeypatch.setattr(Recognizer, "read_each", spy)
    monkeypatch.setattr(Recognizer, "read", lambda *a, **k: pytest.fail("read one at a time"))
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    names = [str(photo)] * 8 + [str(bad)] + [str(photo)] * 9
    assert main(["read", *names, "--json"]) == 1
    assert calls == [16, 2]
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["image"] for r in records] == names
    assert [r.get("text") for r in records] == ["2468"] * 8 + [None] + ["2468"] * 9
    assert records[8]["type"] == "UnsupportedImageError"
