"""Benchmark: seqdigits vs Tesseract 5 on the same photo-like digit strings, in one run.

    python benchmarks/run.py --data ../shared/data/mnist --lines 100 --out benchmarks/results

    # a bigger sample of some sets, seqdigits alone (other images: another seed)
    python benchmarks/run.py --data ../shared/data/mnist --lines 500 --seed 1000 \
        --sets separated,touching,mixed --seqdigits-only --out /tmp/bench-500

Generates evaluation sets from MNIST *test* digits (postal codes of 5 digits:
separated / touching / overlapping / broken / mixed, each at photo-degradation
strengths 0, 0.5 and 1; ZIP+4 codes and house numbers; and postal codes as a
12 MP phone camera stores them), reads every image with seqdigits (one at a time and
in batches) and with Tesseract (``tesseract`` CLI, one text line, digits
whitelist; and in-process through Debian's ``python3-tesserocr`` when the
system Python has it), and writes a Markdown table and PNG plots.

This is a measurement script, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets.mnist import load_mnist  # noqa: E402
from datasets.photo import Photo, enlarge, photograph  # noqa: E402
from datasets.synth import LineGenerator, SynthConfig  # noqa: E402
from seqdigits import load_recognizer  # noqa: E402
from seqdigits.evaluate import edit_distance, evaluate_digits  # noqa: E402

KINDS = {
    "separated": SynthConfig(gap="separated"),
    "touching": SynthConfig(gap="touching"),
    "overlapping": SynthConfig(gap="overlapping"),
    "broken": SynthConfig(gap="separated", breaks=0.5),
    # As people write: each neighbouring pair separated (40 %), kissing (20 %) or touching (40 %).
    "mixed": SynthConfig(gap="mixed"),
}
#: Further sets, read with their format: ZIP+4 codes with a handwritten hyphen (mixed gaps) and
#: house numbers of 1-4 digits, written larger and apart, as on a door or a form's street field.
FORMATS = {
    "zip+4": (SynthConfig(gap="mixed"), r"\d{5}-\d{4}"),
    "house number": (SynthConfig(gap="separated", height=(50, 80)), r"\d{1,4}"),
}
#: Postal codes (mixed gaps) photographed whole with a phone: the writing in the middle of a
#: 4032 px wide page (12 MP at 4:3), 2.5-4 digit heights of paper all round, so digits stand
#: about 300-500 px tall. Read as the files are, by both engines.
PHONE = {"phone photo": SynthConfig(gap="mixed", margin=(2.5, 4.0))}
#: Share of lines with a box, a rule or a stray dot, by degradation strength.
FURNITURE = {0.0: 0.0, 0.5: 0.5, 1.0: 0.75}
STRENGTHS = (0.0, 0.5, 1.0)

TESSEROCR_HELPER = r"""
import json, sys, time
import tesserocr
jobs = json.loads(sys.stdin.read())
out = []
with tesserocr.PyTessBaseAPI(psm=tesserocr.PSM.SINGLE_LINE) as api:
    for p, whitelist in jobs:
        t = time.perf_counter()
        api.SetVariable("tessedit_char_whitelist", whitelist)
        api.SetImageFile(p)
        text = api.GetUTF8Text()
        out.append([text, (time.perf_counter() - t) * 1000.0])
print(json.dumps({"results": out}))
"""


@dataclass
class Score:
    exact: int = 0
    chars: float = 0.0
    ms: list[float] = field(default_factory=list)
    n: int = 0

    def add(self, got: str, truth: str, ms: float) -> None:
        self.n += 1
        self.exact += got == truth
        self.chars += max(0.0, 1.0 - edit_distance(got, truth) / len(truth))
        self.ms.append(ms)

    def row(self) -> tuple[float, float, float]:
        return self.exact / max(self.n, 1), self.chars / max(self.n, 1), float(np.median(self.ms)) if self.ms else float("nan")


def _mb(value: float | None) -> str:
    return "n/a (GNU time not installed)" if value is None else f"{value:.0f} MB"


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _text(kind: str, rng: np.random.Generator) -> str | None:
    """The string a line of ``kind`` spells (None: 5 random digits, drawn by the generator)."""
    if kind == "zip+4":
        digits = "".join(str(d) for d in rng.integers(0, 10, 9))
        return f"{digits[:5]}-{digits[5:]}"
    if kind == "house number":
        return "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(1, 5))))
    return None


SETS = (*KINDS, *FORMATS, *PHONE)


def draw_sets(
    images: np.ndarray, labels: np.ndarray, lines: int, seed: int, only: frozenset[str] | None = None
) -> Iterator[tuple[str, float, int, Photo]]:
    """The sets' photos, drawn from ``images`` and ``labels`` (MNIST test digits here):
    (set, strength, index, photo). ``only``: these sets (default: all); a set's photos are the
    same either way."""
    configs = {**KINDS, **{kind: config for kind, (config, _) in FORMATS.items()}, **PHONE}
    for k, (kind, config) in enumerate(configs.items()):
        if only is not None and kind not in only:
            continue
        for s, strength in enumerate(STRENGTHS):
            gen = LineGenerator(images, labels, config=config, seed=seed + 100 * k + s)
            rng = np.random.default_rng(seed + 100 * k + s)
            tilt = 12.0 * strength
            for i in range(lines):
                # The texts of the format sets have a stream of their own: the 5-digit sets' photos stay as they were.
                text = _text(kind, np.random.default_rng([seed, k, s, i])) if kind in FORMATS else None
                line = gen.line(text, length=5, rotation=(-tilt, tilt), furniture=FURNITURE[strength])
                photo = photograph(line, rng, strength=strength)
                if kind in PHONE:
                    photo = enlarge(photo, rng)
                yield kind, strength, i, photo


def make_sets(data: str | None, lines: int, seed: int, folder: Path, only: frozenset[str] | None = None) -> list[tuple[str, float, Path, str]]:
    """The photos of :func:`draw_sets` from MNIST *test* digits, written to ``folder``: (set,
    strength, path, true text with any hyphen)."""
    test = load_mnist("test", data)
    items = []
    for kind, strength, i, photo in draw_sets(test.images, test.labels, lines, seed, only):
        path = folder / f"{kind}-{strength:.1f}-{i:04d}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(photo.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        items.append((kind, strength, path, photo.text))
    return items


def peak_rss_mb(command: list[str], stdin: str | None = None) -> float | None:
    """Peak resident memory of ``command`` in MB, from GNU time (a fresh process, so the
    number is the command's own and not inherited from this large Python process)."""
    if not Path("/usr/bin/time").exists():
        return None
    out = subprocess.run(["/usr/bin/time", "-f", "PEAKKB %M", *command], input=stdin, capture_output=True, text=True, check=False)
    for line in out.stderr.splitlines()[::-1]:
        if line.startswith("PEAKKB "):
            return int(line.split()[1]) / 1024.0
    return None


def whitelist(kind: str) -> str:
    """Tesseract's character whitelist for a set: digits, and the hyphen where codes have one."""
    return "0123456789-" if kind == "zip+4" else "0123456789"


def run_tesseract_cli(path: Path, chars: str = "0123456789") -> tuple[str, float]:
    start = time.perf_counter()
    out = subprocess.run(
        ["tesseract", str(path), "stdout", "--psm", "7", "-c", f"tessedit_char_whitelist={chars}"],
        capture_output=True, text=True, check=False,
    )
    return _digits(out.stdout), (time.perf_counter() - start) * 1000.0


def run_tesserocr(jobs: list[tuple[str, str]]) -> tuple[list[tuple[str, float]], float | None] | None:
    """Tesseract in-process on (path, whitelist) pairs: texts (digits only) and ms each, and peak RSS."""
    system_python = "/usr/bin/python3"
    probe = subprocess.run([system_python, "-c", "import tesserocr"], capture_output=True, check=False)
    if probe.returncode != 0:
        return None
    out = subprocess.run([system_python, "-c", TESSEROCR_HELPER], input=json.dumps(jobs),
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"tesserocr run failed, left out: {out.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    data = json.loads(out.stdout)
    rss = peak_rss_mb([system_python, "-c", TESSEROCR_HELPER], json.dumps(jobs))
    return [(_digits(t), ms) for t, ms in data["results"]], rss


def plots(out: Path, digit_report, table, readings) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = np.array(digit_report.confusion)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(np.log1p(confusion), cmap="Blues")
    for i in range(10):
        for j in range(10):
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7, color="black" if i != j else "white")
    ax.set_xlabel("predicted"), ax.set_ylabel("true"), ax.set_xticks(range(10)), ax.set_yticks(range(10))
    ax.set_title(f"MNIST test confusion (accuracy {digit_report.accuracy:.2%})")
    fig.tight_layout(), fig.savefig(out / "confusion.png", dpi=110), plt.close(fig)

    conf = np.array([c for c, _ in readings])
    right = np.array([r for _, r in readings])
    order = np.argsort(conf)  # reject the least confident first
    rejects, errors = [], []
    for k in range(0, len(order)):
        kept = order[k:]
        rejects.append(k / len(order))
        errors.append(1.0 - right[kept].mean() if kept.size else 0.0)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.array(rejects) * 100, np.array(errors) * 100)
    ax.set_xlabel("rejected for review (%)"), ax.set_ylabel("error rate of accepted strings (%)")
    ax.set_title("seqdigits: error vs reject (all photo sets)"), ax.grid(alpha=0.3)
    fig.tight_layout(), fig.savefig(out / "error_vs_reject.png", dpi=110), plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for kind in KINDS:
        ax.plot(STRENGTHS, [table[(kind, s)]["seqdigits"].row()[0] * 100 for s in STRENGTHS], marker="o", label=f"seqdigits {kind}")
        ax.plot(STRENGTHS, [table[(kind, s)]["tesseract"].row()[0] * 100 for s in STRENGTHS], marker="x", linestyle="--", label=f"tesseract {kind}")
    ax.set_xlabel("photo degradation strength"), ax.set_ylabel("sequence accuracy (%)"), ax.set_ylim(0, 100)
    ax.legend(fontsize=7, ncol=2), ax.grid(alpha=0.3), ax.set_title("5-digit strings by gap kind and degradation")
    fig.tight_layout(), fig.savefig(out / "accuracy_by_kind.png", dpi=110), plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("SEQDIGITS_DATA"))
    parser.add_argument("--lines", type=int, default=100, help="images per kind and strength")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--sets", help=f"comma-separated sets to run (default: all of {', '.join(SETS)})")
    parser.add_argument("--seqdigits-only", action="store_true", help="leave Tesseract out (a bigger sample in less time)")
    args = parser.parse_args()
    only = None if args.sets is None else frozenset(name.strip() for name in args.sets.split(","))
    if only is not None and not only <= set(SETS):
        parser.error(f"unknown sets: {', '.join(sorted(only - set(SETS)))}; known: {', '.join(SETS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.seqdigits_only and not shutil.which("tesseract"):
        print("tesseract not found (Debian: apt-get install tesseract-ocr)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="seqdigits-bench-") as tmp:
        folder = Path(tmp)
        items = make_sets(args.data, args.lines, args.seed, folder, only)
        recognizer = load_recognizer()
        cnn_only = load_recognizer(line_model=False)  # what the line model adds
        recognizer.read(items[0][2])  # warm-up: first-call allocations are not the steady state
        cnn_only.read(items[0][2])
        table: dict[tuple[str, float], dict[str, Score]] = {}
        readings = []
        for kind, strength, path, truth in items:
            cell = table.setdefault(
                (kind, strength), {"seqdigits": Score(), "seqdigits-5": Score(), "cnn-only": Score(), "tesseract": Score(), "tesserocr": Score()}
            )
            digits = _digits(truth)  # a free reading spells the digits; a hyphen is read only with a pattern
            start = time.perf_counter()
            reading = recognizer.read(path)
            cell["seqdigits"].add(reading.text, digits, (time.perf_counter() - start) * 1000.0)
            readings.append((reading.confidence, reading.text == digits))
            # The same image read with its field's format, as a form would: a 5-digit postal code
            # (``length=5``), a ZIP+4 code or a house number (its ``pattern``).
            start = time.perf_counter()
            formatted = recognizer.read(path, pattern=FORMATS[kind][1]) if kind in FORMATS else recognizer.read(path, length=5)
            cell["seqdigits-5"].add(formatted.text, truth, (time.perf_counter() - start) * 1000.0)
            start = time.perf_counter()
            cell["cnn-only"].add(cnn_only.read(path).text, digits, (time.perf_counter() - start) * 1000.0)
        # Speed and memory on the 5-digit sets, as in earlier releases' runs.
        five = [item for item in items if item[0] in KINDS]
        formats = [item for item in items if item[0] in FORMATS]
        phones = [item for item in items if item[0] in PHONE]
        sample = [str(p) for _, _, p, _ in five[:: max(1, len(five) // 100)]]
        seq_rss = peak_rss_mb([sys.executable, "-m", "seqdigits", "read", *sample]) if sample else None

        paths = [p for _, _, p, _ in five]
        start = time.perf_counter()
        for s in range(0, len(paths), 32):
            recognizer.read_batch(paths[s : s + 32])
        batch_ips = len(paths) / max(time.perf_counter() - start, 1e-9)

        tess_ips, tess_rss, ocr_rss = float("nan"), None, None
        if not args.seqdigits_only:
            tess_ips, tess_rss, ocr_rss = _tesseract(table, items, five, formats + phones, sample)

    digit_report = evaluate_digits(recognizer, load_mnist("test", args.data))
    report = _report(args, digit_report.accuracy, table, (batch_ips, seq_rss, len(sample)), (tess_ips, tess_rss, ocr_rss))
    (args.out / "results.md").write_text(report + "\n")
    print(report)
    if not args.no_plots and not args.seqdigits_only and only is None:
        plots(args.out, digit_report, table, readings)
    return 0


def _tesseract(table, items, five, others, sample):  # type: ignore[no-untyped-def]
    """Tesseract's readings into ``table``: the CLI on every image, then in-process where
    tesserocr is installed; (CLI images/s on the 5-digit sets, CLI peak RSS, in-process peak RSS)."""
    start = time.perf_counter()
    for kind, strength, path, truth in five:
        text, ms = run_tesseract_cli(path, whitelist(kind))
        table[(kind, strength)]["tesseract"].add(text, _digits(truth), ms)
    tess_ips = len(five) / max(time.perf_counter() - start, 1e-9)
    for kind, strength, path, truth in others:
        text, ms = run_tesseract_cli(path, whitelist(kind))
        table[(kind, strength)]["tesseract"].add(text, _digits(truth), ms)
    tess_rss = peak_rss_mb(["tesseract", sample[0], "stdout", "--psm", "7", "-c", "tessedit_char_whitelist=0123456789"]) if sample else None
    inproc = run_tesserocr([(str(path), whitelist(kind)) for kind, _, path, _ in items])
    ocr_rss = None
    if inproc is not None:
        results, ocr_rss = inproc
        for (kind, strength, _, truth), (text, ms) in zip(items, results):
            table[(kind, strength)]["tesserocr"].add(text, _digits(truth), ms)
    return tess_ips, tess_rss, ocr_rss


def _report(args, mnist_accuracy, table, seq_speed, tess_speed) -> str:  # type: ignore[no-untyped-def]
    """The Markdown report of a run: ``seq_speed`` (batch images/s, peak RSS, images in the RSS
    run), ``tess_speed`` (CLI images/s, CLI peak RSS, in-process peak RSS)."""
    batch_ips, seq_rss, sampled = seq_speed
    tess_ips, tess_rss, ocr_rss = tess_speed
    title = "seqdigits (Tesseract left out)" if args.seqdigits_only else (
        f"seqdigits vs Tesseract {subprocess.run(['tesseract', '--version'], capture_output=True, text=True).stdout.split()[1]}"
    )
    lines = [
        f"# {title}",
        "",
        f"{args.lines} strings per row, from MNIST test digits: five-digit postal codes by gap kind; ZIP+4 codes "
        "with a handwritten hyphen (mixed gaps); house numbers of 1-4 digits, written apart and larger. "
        "Strength = photo degradation "
        "(0: clean scan in colour; 0.5 and 1: shadow, vignette, blur, noise, JPEG, tilt up to 6 and 12 degrees, "
        "form furniture). Tesseract: `--psm 7`, digits whitelist (and the hyphen for ZIP+4). ms = median per image, "
        "one image at a time. seq = whole string right (its digits; a free reading spells no hyphen); "
        "char = 1 - edit distance / digits; with format: the same images read with the field's format given "
        "(`length=5` for postal codes, `pattern=r\"\\d{5}-\\d{4}\"` for ZIP+4, hyphen included in the "
        "comparison, `pattern=r\"\\d{1,4}\"` for house numbers); CNN only: without the line models "
        "(`load_recognizer(line_model=False)`). Phone photo: 5-digit postal codes (mixed gaps) as a 12 MP "
        "phone camera stores them, 4032 px wide, the digits about 300-500 px tall. "
        "Speed and memory below: the 5-digit sets, and the phone photos apart.",
        "",
        "| set | strength | seqdigits seq | seqdigits char | seqdigits seq, with format | seqdigits ms | CNN only seq | CNN only ms "
        "| tesseract seq | tesseract char | tesseract CLI ms | tesserocr ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (kind, strength), cell in table.items():
        a, f, c = cell["seqdigits"].row(), cell["seqdigits-5"].row(), cell["cnn-only"].row()
        t, o = cell["tesseract"].row(), cell["tesserocr"].row()
        tess = f"{t[0]:.3f} | {t[1]:.3f} | {t[2]:.1f}" if cell["tesseract"].n else "- | - | -"
        ocr = f"{o[2]:.1f}" if cell["tesserocr"].n else "-"
        lines.append(
            f"| {kind} | {strength:.1f} | {a[0]:.3f} | {a[1]:.3f} | {f[0]:.3f} | {a[2]:.1f} | {c[0]:.3f} | {c[2]:.1f} "
            f"| {tess} | {ocr} |"
        )
    fives = [cell for (kind, _), cell in table.items() if kind in KINDS]
    all_seq = [v for cell in fives for v in cell["seqdigits"].ms]
    all_cnn = [v for cell in fives for v in cell["cnn-only"].ms]
    all_tess = [v for cell in fives for v in cell["tesseract"].ms]
    all_ocr = [v for cell in fives for v in cell["tesserocr"].ms]
    lines += [""]
    if all_seq:
        lines.append(
            f"- seqdigits: median {np.median(all_seq):.1f} ms per image; batch mode (32 per call) {batch_ips:.1f} images/s; "
            f"peak RSS {_mb(seq_rss)} (`seqdigits read` of {sampled} images); CNN only: median {np.median(all_cnn):.1f} ms"
        )
    if all_tess:
        lines.append(
            f"- tesseract CLI: median {np.median(all_tess):.1f} ms per image ({tess_ips:.1f} images/s, a process and model load each); "
            f"peak RSS {_mb(tess_rss)} per process"
        )
    if all_ocr and all_tess:
        lines.append(f"- tesserocr in-process: median {np.median(all_ocr):.1f} ms per image; peak RSS {_mb(ocr_rss)}")
        lines.append(f"- speed-up per image: {np.median(all_tess) / np.median(all_seq):.1f}x vs the CLI, {np.median(all_ocr) / np.median(all_seq):.1f}x vs in-process")
    phone_cells = [cell for (kind, _), cell in table.items() if kind in PHONE]
    if phone_cells:
        p_seq = np.median([v for cell in phone_cells for v in cell["seqdigits"].ms])
        p_tess = float(np.median([v for cell in phone_cells for v in cell["tesseract"].ms])) if not args.seqdigits_only else float("nan")
        p_ocr = [v for cell in phone_cells for v in cell["tesserocr"].ms]
        line = f"- phone photos (12 MP): seqdigits median {p_seq:.1f} ms per image"
        if not args.seqdigits_only:
            line += f"; tesseract CLI {p_tess:.1f} ms ({p_tess / p_seq:.1f}x)"
        if p_ocr:
            line += f"; tesserocr {np.median(p_ocr):.1f} ms ({np.median(p_ocr) / p_seq:.1f}x)"
        lines.append(line)
    lines.append(f"- MNIST test accuracy {mnist_accuracy:.4f}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
