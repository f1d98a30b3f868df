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


def test_read_json_and_debug_dir(photo, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    debug = tmp_path / "debug"
    assert main(["read", str(photo), "--json", "--debug-dir", str(debug), "--length", "4"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["image"] == str(photo) and record["text"] == "2468"
    assert len(record["characters"]) == 4
    assert (debug / "number.seqdigits.png").stat().st_size > 0


def test_bad_files_are_reported_and_the_rest_still_read(photo, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "notes.txt"
    junk.write_text("not an image")
    assert main(["read", str(junk), str(photo), str(tmp_path / "missing.png")]) == 1
    captured = capsys.readouterr()
    assert "2468" in captured.out
    assert "notes.txt: not a recognised image" in captured.err
    assert "missing.png: no such image file" in captured.err


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
    # The line model's own figures come from its checkpoint.
    from classifier.line_model import LineReader

    recorded = LineReader.load().metrics
    assert report["line_model"]["test_sequence_accuracy"] == recorded["test_sequence_accuracy"]
    assert report["line_model"]["validation_sequence_accuracy"] == recorded["validation_sequence_accuracy"]


def test_train_reports_missing_data(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["train", "--data", str(tmp_path), "--output", str(tmp_path / "w.pt")]) == 2
    assert "MNIST train files not found" in capsys.readouterr().err


def test_read_with_a_pattern(photo, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["read", str(photo), "--pattern", r"\d{4}"]) == 0
    assert capsys.readouterr().out.split("\t")[0] == "2468"
    assert main(["read", str(photo), "--pattern", "four digits"]) == 2
    assert "cannot read pattern" in capsys.readouterr().err


def test_missing_weights_are_an_error_not_a_traceback(photo, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import _data_dir

    assert main(["eval", "--data", str(_data_dir()), "--lines", "1", "--line-weights", str(tmp_path / "no.pt")]) == 2
    assert "line weights file not found" in capsys.readouterr().err
    assert main(["read", str(photo), "--line-weights", str(tmp_path / "no.pt")]) == 2
    assert "line weights file not found" in capsys.readouterr().err
    assert main(["train-lines", "--data", str(tmp_path), "--output", str(tmp_path / "l.pt")]) == 2
    assert "MNIST train files not found" in capsys.readouterr().err
