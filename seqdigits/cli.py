"""The ``seqdigits`` command: a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a share from 0 to 1, got {text}")
    return value


_LINE_WEIGHTS_HELP = "line weights to use instead of the packaged ensemble: an ensemble file (.json) or a line-model checkpoint; repeat it to read with several checkpoints"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seqdigits", description="Read strings of handwritten digits from images.")
    sub = parser.add_subparsers(dest="command", required=True)

    read = sub.add_parser("read", help="read the digits in one or more images")
    read.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, HEIC, AVIF, GIF, BMP, TIFF, WebP); - reads one from standard input")
    read.add_argument("--json", action="store_true", help="print one JSON object per image (JSON lines)")
    read.add_argument("--length", type=_positive, help="expected number of digits")
    read.add_argument("--pattern", help=r"expected format, e.g. '\d{5}' or '\d{5}-\d{4}|\d{5}'")
    read.add_argument("--debug-dir", type=Path, help="write each image with its boxes, digits and confidences here")
    read.add_argument("--weights", type=Path, help="digit CNN checkpoint to use instead of the packaged one")
    read.add_argument("--line-weights", type=Path, action="append", help=_LINE_WEIGHTS_HELP)
    read.add_argument("--min-confidence", type=float, default=0.9, help="flag readings less likely to be right (default 0.9)")

    train = sub.add_parser("train", help="train the digit classifier on MNIST and write a checkpoint")
    train.add_argument("--data", help="MNIST directory (default: $SEQDIGITS_DATA or the cache)")
    train.add_argument("--download", action="store_true", help="download MNIST (checksums verified) if missing")
    train.add_argument("--output", default="classifier/weights/digitnet.pt", help="checkpoint path to write")
    train.add_argument("--epochs", type=float, help="passes over the sample pool (default: 3)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--split-seed", type=int, default=0, help="seed of the held-out digits' draw, as the line models' (default 0)")
    train.add_argument("--width", type=_positive, help="channels of the CNN's first layer (default: 32)")
    train.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")

    lines = sub.add_parser("train-lines", help="train the line model (CTC) on segmented lines of MNIST digits")
    lines.add_argument("--data", help="MNIST directory (default: $SEQDIGITS_DATA or the cache)")
    lines.add_argument("--download", action="store_true", help="download MNIST (checksums verified) if missing")
    lines.add_argument("--output", default="classifier/weights/linenet.pt", help="checkpoint path to write")
    lines.add_argument("--lines", type=_positive, help="training lines (default: 60000)")
    lines.add_argument("--epochs", type=float, help="passes over the training lines (default: 5)")
    lines.add_argument("--seed", type=int, default=0, help="seed of the model's initialization and its training lines")
    lines.add_argument("--split-seed", type=int, default=0, help="seed of the held-out digits' draw; keep it for every model of an ensemble (default 0)")
    lines.add_argument("--width", type=_positive, help="channels of the network's first layer (default: 32)")
    lines.add_argument("--hidden", type=_positive, help="units of each direction of its GRU (default: 128)")
    lines.add_argument(
        "--stride", type=int, choices=(2, 4), help="input columns per output frame: 4, or 2 for twice the frames over narrow digits (default: 4)"
    )
    lines.add_argument("--learning-rate", type=float, help="peak learning rate of the one-cycle schedule (default: 0.002)")
    lines.add_argument("--init", help="a line-model checkpoint to start from (fine-tuning; its width, hidden size and stride are kept)")
    lines.add_argument("--pens", type=_share, help="share of training lines written with a finer pen or a marker (default: 0)")
    lines.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")

    ens = sub.add_parser("fit-ensemble", help="fit the temperature of an ensemble of line models and write its ensemble file")
    ens.add_argument("--line-weights", type=Path, action="append", required=True, help="a line-model checkpoint of the ensemble; repeat it for each")
    ens.add_argument("--data", help="MNIST directory (default: $SEQDIGITS_DATA or the cache)")
    ens.add_argument("--download", action="store_true", help="download MNIST (checksums verified) if missing")
    ens.add_argument("--output", default="classifier/weights/linenets.json", help="ensemble file to write (JSON)")
    ens.add_argument("--lines", type=_positive, help="lines of held-out training digits to fit on (default: 2000)")
    ens.add_argument("--split-seed", type=int, default=0, help="the held-out digits, as the models were trained with (default 0)")
    ens.add_argument(
        "--calibration-lines", type=int, help="lines of held-out digits the whole recognizer reads to fit its readings' calibration (default: 1000; 0: none)"
    )
    ens.add_argument("--weights", help="the digit CNN those lines are read with (default: the packaged one)")
    ens.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")

    ev = sub.add_parser("eval", help="MNIST test accuracy and sequence accuracy on generated lines")
    ev.add_argument("--data", help="MNIST directory (default: $SEQDIGITS_DATA or the cache)")
    ev.add_argument("--download", action="store_true")
    ev.add_argument("--weights", type=Path)
    ev.add_argument("--line-weights", type=Path, action="append", help=_LINE_WEIGHTS_HELP)
    ev.add_argument("--lines", type=_positive, default=200, help="generated lines per gap kind")
    ev.add_argument("--length", type=_positive, default=5, help="digits per generated line")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--json", action="store_true")

    serve = sub.add_parser("serve", help="run the HTTP service (Litestar on uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=_positive, default=1, help="worker processes, each with its own model")
    serve.add_argument("--weights", type=Path)
    serve.add_argument("--line-weights", type=Path, action="append", help=_LINE_WEIGHTS_HELP)
    serve.add_argument("--max-upload-mb", type=float, default=25.0, help="largest accepted request body (default: 25)")
    return parser


_STDIN = "-"
#: Images read in one pass (``Recognizer.read_each``): a folder of scans reads faster than one
#: image at a time, and the output still comes as the reading goes.
_READ_BATCH = 16


def _stdin_bytes() -> bytes:
    """Standard input, whole; nothing (reported as an empty image) where there is none to read."""
    try:
        return sys.stdin.buffer.read()
    except (AttributeError, OSError, ValueError):  # closed, detached, or not a byte stream
        return b""


def _read(args: argparse.Namespace) -> int:
    from seqdigits.errors import ImageError, SeqdigitsError
    from seqdigits.image import load_image
    from seqdigits.recognizer import check_options, load_recognizer
    from seqdigits.render import draw_reading

    # Refused before the weights load (a second or two): the library's own checks and words.
    try:
        check_options(length=args.length, pattern=args.pattern, min_confidence=args.min_confidence)
    except ValueError as exc:
        print(f"seqdigits: error: {exc}", file=sys.stderr)
        return 2
    if args.images.count(_STDIN) > 1:
        print("seqdigits: error: standard input (-) holds one image; give - once", file=sys.stderr)
        return 2
    try:
        recognizer = load_recognizer(args.weights, line_weights=args.line_weights)
    except SeqdigitsError as exc:
        print(f"seqdigits: error: {exc}", file=sys.stderr)
        return 2
    if args.debug_dir:
        args.debug_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for start in range(0, len(args.images), _READ_BATCH):
        names = args.images[start : start + _READ_BATCH]
        # The path itself, so that a big JPEG can be decoded at the size the reader works at.
        sources: list[str | bytes] = [_stdin_bytes() if name == _STDIN else name for name in names]
        outcomes = recognizer.read_each(sources, length=args.length, pattern=args.pattern, min_confidence=args.min_confidence)
        for name, source, outcome in zip(names, sources, outcomes):
            gray = None
            if args.debug_dir and not isinstance(outcome, ImageError):
                try:
                    gray = load_image(source, max_pixels=recognizer.max_pixels)
                except ImageError as exc:  # read a moment ago; changed or gone since
                    outcome = exc
            if isinstance(outcome, ImageError):
                failed += 1
                if args.json:
                    print(json.dumps({"image": name, "error": str(outcome), "type": type(outcome).__name__}))
                else:
                    print(f"seqdigits: error: {name}: {outcome}", file=sys.stderr)
                continue
            reading = outcome
            if args.json:
                print(json.dumps({"image": name, **reading.to_dict()}))
            else:
                digits = " ".join(f"{c.digit}:{c.confidence:.2f}" for c in reading.characters)
                prefix = f"{name}\t" if len(args.images) > 1 else ""
                review = "\tREVIEW" if reading.needs_review else ""
                # One output line per image: the lines of a several-line image are parted by " / ".
                text = reading.text.replace("\n", " / ") or "(no digits)"
                print(f"{prefix}{text}\tconfidence {reading.confidence:.3f}\t[{digits}]{review}")
            if gray is not None:
                import cv2

                target = args.debug_dir / (("stdin" if name == _STDIN else Path(name).stem) + ".seqdigits.png")
                cv2.imwrite(str(target), draw_reading(gray, reading))
    return 1 if failed else 0


def _train(args: argparse.Namespace) -> int:
    from classifier.train import TrainConfig, train
    from datasets.mnist import MnistError

    config = TrainConfig(
        data_dir=args.data,
        output=args.output,
        epochs=TrainConfig().epochs if args.epochs is None else args.epochs,
        width=TrainConfig().width if args.width is None else args.width,
        seed=args.seed,
        split_seed=args.split_seed,
        threads=args.threads,
        download=args.download,
    )
    try:
        result = train(config)
    except MnistError as exc:
        print(f"seqdigits: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {result.path} ({os.path.getsize(result.path) / 1e6:.2f} MB): MNIST test accuracy "
        f"{result.test_accuracy:.4%}, temperature {result.temperature:.3f}, {result.seconds / 60:.1f} min"
    )
    return 0


def _train_lines(args: argparse.Namespace) -> int:
    from classifier.predict import CheckpointError
    from classifier.train_line import LineTrainConfig, train_lines
    from datasets.mnist import MnistError

    defaults = LineTrainConfig()
    config = LineTrainConfig(
        data_dir=args.data,
        output=args.output,
        lines=defaults.lines if args.lines is None else args.lines,
        epochs=defaults.epochs if args.epochs is None else args.epochs,
        seed=args.seed,
        split_seed=args.split_seed,
        width=defaults.width if args.width is None else args.width,
        hidden=defaults.hidden if args.hidden is None else args.hidden,
        stride=defaults.stride if args.stride is None else args.stride,
        learning_rate=defaults.learning_rate if args.learning_rate is None else args.learning_rate,
        init=args.init,
        pens=defaults.pens if args.pens is None else args.pens,
        threads=args.threads,
        download=args.download,
    )
    try:
        result = train_lines(config)
    except (MnistError, CheckpointError) as exc:
        print(f"seqdigits: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {result.path} ({os.path.getsize(result.path) / 1e6:.2f} MB): sequence accuracy "
        f"{result.validation_accuracy:.4f} on held-out training digits, {result.test_accuracy:.4f} on MNIST test digits, "
        f"temperature {result.temperature:.3f}, {result.seconds / 60:.1f} min"
    )
    return 0


def _fit_ensemble(args: argparse.Namespace) -> int:
    from classifier.predict import CheckpointError
    from classifier.train_line import EnsembleFitConfig, fit_ensemble
    from datasets.mnist import MnistError

    defaults = EnsembleFitConfig(models=())
    config = EnsembleFitConfig(
        models=tuple(str(path) for path in args.line_weights),
        data_dir=args.data,
        output=args.output,
        lines=defaults.lines if args.lines is None else args.lines,
        split_seed=args.split_seed,
        calibration_lines=defaults.calibration_lines if args.calibration_lines is None else max(0, args.calibration_lines),
        digit_weights=args.weights,
        threads=args.threads,
        download=args.download,
    )
    try:
        result = fit_ensemble(config)
    except (MnistError, CheckpointError, ValueError) as exc:
        print(f"seqdigits: error: {exc}", file=sys.stderr)
        return 2
    members = ", ".join(f"{v:.4f}/{t:.4f}" for v, t in zip(result.member_validation_accuracy, result.member_test_accuracy))
    print(
        f"wrote {result.path}: temperature {result.temperature:.3f}; sequence accuracy {result.validation_accuracy:.4f} on held-out "
        f"training digits, {result.test_accuracy:.4f} on MNIST test digits (each model alone: {members})"
    )
    if "calibration_lines" in result.metrics:
        m = result.metrics
        print(
            f"readings' calibration: scale {result.calibration[0]:.3f}, shift {result.calibration[1]:.3f}; on {m['calibration_lines']} lines "
            f"read {m['calibration_accuracy']:.4f} right, mean confidence {m['calibration_mean_confidence_before']:.4f} -> "
            f"{m['calibration_mean_confidence_after']:.4f}, calibration error {m['calibration_error_before']:.4f} -> {m['calibration_error_after']:.4f}"
        )
    return 0


def _eval(args: argparse.Namespace) -> int:
    from datasets.mnist import MnistError, load_mnist
    from seqdigits.errors import WeightsError
    from seqdigits.evaluate import evaluate_digits, evaluate_lines
    from seqdigits.recognizer import load_recognizer

    try:
        test = load_mnist("test", args.data, download=args.download)
        recognizer = load_recognizer(args.weights, line_weights=args.line_weights)
    except (MnistError, WeightsError) as exc:
        print(f"seqdigits: error: {exc}", file=sys.stderr)
        return 2
    digits = evaluate_digits(recognizer, test)
    lines = evaluate_lines(recognizer, test, lines=args.lines, length=args.length, seed=args.seed)
    ensemble = recognizer.lines
    line_models = [_recorded(reader.metrics, _LINE_MODEL_KEYS) for reader in ensemble.readers] if ensemble is not None else []
    ensemble_figures = _recorded(ensemble.metrics, _ENSEMBLE_KEYS) if ensemble is not None and len(ensemble.readers) > 1 else None
    if ensemble_figures is not None and ensemble is not None:
        calibration = _recorded(ensemble.metrics, _CALIBRATION_KEYS) or {}
        ensemble_figures = {**ensemble_figures, **calibration, "calibration": list(ensemble.calibration)}
    if args.json:
        from dataclasses import asdict

        print(json.dumps({"mnist_test": asdict(digits), "line_models": line_models, "line_ensemble": ensemble_figures, "lines": [asdict(r) for r in lines]}))
        return 0
    print(f"MNIST test accuracy: {digits.accuracy:.4%} ({digits.count} digits)")
    print("per class: " + "  ".join(f"{d}:{a:.4f}" for d, a in enumerate(digits.per_class)))
    print("confusion (rows true, columns predicted):")
    print("      " + " ".join(f"{d:>5}" for d in range(10)))
    for d, row in enumerate(digits.confusion):
        print(f"  {d}:  " + " ".join(f"{v:>5}" for v in row))
    for k, figures in enumerate(line_models, 1):
        if figures is not None:
            print(
                f"line model {k} of {len(line_models)} alone, as measured when it was trained: sequence accuracy "
                f"{figures['validation_sequence_accuracy']:.4f} on lines of held-out training digits, "
                f"{figures['test_sequence_accuracy']:.4f} on lines of MNIST test digits"
            )
    if ensemble_figures is not None:
        print(
            f"line models together, as measured when fitted (temperature {ensemble_figures['temperature']:.3f}): sequence accuracy "
            f"{ensemble_figures['validation_sequence_accuracy']:.4f} on lines of held-out training digits, "
            f"{ensemble_figures['test_sequence_accuracy']:.4f} on lines of MNIST test digits"
        )
        if "calibration_error_before" in ensemble_figures:
            print(
                f"readings' calibration (scale {ensemble.calibration[0]:.3f}, shift {ensemble.calibration[1]:.3f}): calibration error "  # type: ignore[union-attr]
                f"{ensemble_figures['calibration_error_before']:.4f} -> {ensemble_figures['calibration_error_after']:.4f} on "
                f"{ensemble_figures['calibration_lines']} lines of held-out training digits"
            )
    print(f"\ngenerated {args.length}-digit lines from MNIST test digits, {args.lines} per gap kind:")
    print(f"  {'gap':<12} {'sequence':>9} {'character':>10} {'median ms':>10}")
    for r in lines:
        print(f"  {r.gap:<12} {r.sequence_accuracy:>9.3f} {r.character_accuracy:>10.3f} {r.median_ms:>10.1f}")
    return 0


_LINE_MODEL_KEYS = ("validation_sequence_accuracy", "test_sequence_accuracy", "temperature", "training_lines")
_ENSEMBLE_KEYS = ("validation_sequence_accuracy", "test_sequence_accuracy", "temperature", "fit_lines")
_CALIBRATION_KEYS = ("calibration_lines", "calibration_error_before", "calibration_error_after")


def _recorded(metrics: dict[str, object], keys: tuple[str, ...]) -> dict[str, object] | None:
    """The figures a checkpoint or ensemble file recorded when it was made (None if it lacks any)."""
    return {key: metrics[key] for key in keys} if all(key in metrics for key in keys) else None


def _serve(args: argparse.Namespace) -> int:
    from service.app import serve

    serve(host=args.host, port=args.port, workers=args.workers, weights=args.weights, line_weights=args.line_weights, max_upload_mb=args.max_upload_mb)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``seqdigits`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    handlers = {"read": _read, "train": _train, "train-lines": _train_lines, "fit-ensemble": _fit_ensemble, "eval": _eval, "serve": _serve}
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
