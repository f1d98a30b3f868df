from __future__ import annotations

import math

import numpy as np
import pytest

from segmentation.decode import decode
from segmentation.types import Atom, Box, Candidate, LineLayout


def _layout(spans: list[tuple[int, int]], atoms: int = 3) -> LineLayout:
    atom_list = tuple(Atom(i, Box(10 * i, 0, 10, 10), np.ones((10, 10), bool), False, False) for i in range(atoms))
    cands = tuple(Candidate(s, e, np.zeros((1, 1), np.uint8), Box(0, 0, 1, 1), 0.0) for s, e in spans)
    return LineLayout(atoms=atom_list, candidates=cands, line_height=10.0, angle=0.0, scale=1.0)


SPANS = [(0, 1), (1, 2), (2, 3), (0, 2), (1, 3), (0, 3)]


def test_best_path_wins() -> None:
    layout = _layout(SPANS)
    scores = [-1.0, -1.0, -1.0, -0.1, -5.0, -9.0]
    assert decode(layout, scores) == (3, 2)  # [0,2) + [2,3): -1.1


def test_length_constraint_picks_the_best_path_of_that_length() -> None:
    layout = _layout(SPANS)
    scores = [-1.0, -1.0, -1.0, -0.1, -5.0, -0.5]
    assert decode(layout, scores) == (5,)
    assert decode(layout, scores, length=2) == (3, 2)
    assert decode(layout, scores, length=3) == (0, 1, 2)


def test_skipping_a_stray_mark() -> None:
    layout = _layout([(0, 1), (1, 2), (2, 3)])
    scores = [-0.1, -6.0, -0.1]
    assert decode(layout, scores) == (0, 1, 2)
    assert decode(layout, scores, skip_scores=[-math.inf, -1.0, -math.inf]) == (0, 2)


def test_bad_arguments() -> None:
    layout = _layout(SPANS)
    with pytest.raises(ValueError):
        decode(layout, [0.0])
    with pytest.raises(ValueError):
        decode(layout, [0.0] * 6, length=-1)


def test_parse_pattern() -> None:
    from segmentation.decode import Token, parse_pattern

    assert parse_pattern(r"\d{5}") == ((Token("digit", 5, 5),),)
    assert parse_pattern(r"^\d{5}-\d{4}$|\d{5}") == (
        (Token("digit", 5, 5), Token("separator", char="-"), Token("digit", 4, 4)),
        (Token("digit", 5, 5),),
    )
    assert parse_pattern(r"\d\d{2} [0-9]{2,3}") == ((Token("digit", 3, 3), Token("separator", char=" "), Token("digit", 2, 3)),)
    assert parse_pattern(r"\d+") == ((Token("digit", 1, 64),),)
    for bad in ("", "abc", r"\d{3,1}", "-", r"\w{5}"):
        with pytest.raises(ValueError):
            parse_pattern(bad)


def test_a_pattern_asks_for_no_more_digits_than_a_line_is_read_as() -> None:
    from segmentation.decode import MAX_DIGITS, Token, parse_pattern

    # Up to MAX_DIGITS a line, however the pattern spells it; unbounded counts stop there.
    assert parse_pattern(rf"\d{{{MAX_DIGITS}}}") == ((Token("digit", MAX_DIGITS, MAX_DIGITS),),)
    assert parse_pattern(r"\d{32}-\d{32}")[0][2] == Token("digit", 32, 32)
    assert parse_pattern(r"\d{3,}|\d*") == ((Token("digit", 3, MAX_DIGITS),), (Token("digit", 0, MAX_DIGITS),))
    # A count past it could never be met (and \d{5}-\d{100000000} asked the decoder for 24 GB).
    for bad in (rf"\d{{{MAX_DIGITS + 1}}}", r"\d{1,100}", r"\d{5}-\d{100000000}"):
        with pytest.raises(ValueError, match=f"more than {MAX_DIGITS} digits"):
            parse_pattern(bad)
    with pytest.raises(ValueError, match="at least 65 digits"):
        parse_pattern(r"\d{5}|\d{33}-\d{32}")


def _dash_layout() -> tuple[LineLayout, list[tuple[int, int]]]:
    """Atoms 0-4, with atom 2 a dash (flat, mid-height); candidates: each atom, and atoms 0-1 together."""
    boxes = [Box(0, 0, 10, 10), Box(12, 0, 10, 10), Box(24, 4, 6, 2), Box(32, 0, 10, 10), Box(44, 0, 10, 10)]
    atom_list = tuple(Atom(i, b, np.ones((b.height, b.width), bool), False, False) for i, b in enumerate(boxes))
    spans = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 2)]
    cands = tuple(Candidate(s, e, np.zeros((1, 1), np.uint8), Box(0, 0, 1, 1), 0.0) for s, e in spans)
    return LineLayout(atoms=atom_list, candidates=cands, line_height=10.0, angle=0.0, scale=1.0), spans


def test_pattern_decoding_counts_digits_and_places_separators() -> None:
    from segmentation.decode import decode_pattern, parse_pattern

    layout, _ = _dash_layout()
    scores = [-0.1, -0.1, -9.0, -0.1, -0.1, -3.0]
    found = decode_pattern(layout, scores, parse_pattern(r"\d{2}-\d{2}")[0])
    assert found is not None and found[0] == (0, 1, "-", 3, 4)
    # Four digits: only by merging [0, 2) and reading the dash as a digit.
    found = decode_pattern(layout, scores, parse_pattern(r"\d{4}")[0])
    assert found is not None and found[0] == (5, 2, 3, 4) and found[1] == pytest.approx(-12.2)
    # No cover of these atoms has three or nine digits.
    assert decode_pattern(layout, scores, parse_pattern(r"\d{3}")[0]) is None
    assert decode_pattern(layout, scores, parse_pattern(r"\d{9}")[0]) is None


def _covers(layout: LineLayout, skips: list[float]) -> list[tuple[list[int], float]]:
    """Every left-to-right cover of the atoms by candidates and skipped atoms, with the skips' score."""
    out: list[tuple[list[int], float]] = []

    def walk(pos: int, path: list[int], score: float) -> None:
        if pos == len(layout.atoms):
            out.append((path, score))
            return
        for i, c in enumerate(layout.candidates):
            if c.start == pos:
                walk(c.end, [*path, i], score)
        if skips[pos] > -math.inf:
            walk(pos + 1, path, score + skips[pos])

    walk(0, [], 0.0)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_decode_texts_finds_the_best_cover_spelling_each_text(seed: int) -> None:
    from segmentation.decode import decode_texts

    rng = np.random.default_rng(seed)
    layout = _layout([(0, 1), (1, 2), (2, 3), (3, 4), (0, 2), (1, 3), (2, 4), (0, 3)], atoms=4)
    digit_scores = rng.normal(-2.0, 1.5, (len(layout.candidates), 10))
    skips = [-3.0, -math.inf, -1.5, -math.inf]
    texts = ["12", "907", "5", "3333", "11111", ""]
    found = decode_texts(layout, digit_scores, texts, skip_scores=skips)
    covers = _covers(layout, skips)
    for text, result in zip(texts, found):
        options = [
            (skip + sum(digit_scores[i, int(ch)] for i, ch in zip(path, text)), path)
            for path, skip in covers
            if len(path) == len(text)
        ]
        if not options:
            assert result is None
            continue
        score, path = max(options)
        assert result is not None
        assert result[1] == pytest.approx(score)
        assert list(result[0]) == path


def test_decode_texts_spells_separators() -> None:
    from segmentation.decode import decode_texts

    layout, spans = _dash_layout()
    digit_scores = np.full((len(spans), 10), -5.0)
    for i, d in enumerate([1, 2, 7, 3, 4, 8]):
        digit_scores[i, d] = -0.1
    found = decode_texts(layout, digit_scores, ["12-34", "1234", "12734", "12 34", "8-34"])
    assert found[0] is not None and found[0][0] == (0, 1, "-", 3, 4) and found[0][1] == pytest.approx(-0.4)
    # Four digits cover five atoms only by merging [0, 2) and reading the dash as a digit.
    assert found[1] is not None and found[1][0] == (5, 2, 3, 4) and found[1][1] == pytest.approx(-10.2)
    assert found[2] is not None and found[2][0] == (0, 1, 2, 3, 4) and found[2][1] == pytest.approx(-0.5)
    assert found[3] is None  # no gap of 0.4 line heights anywhere
    assert found[4] is not None and found[4][0] == (5, "-", 3, 4)
    with pytest.raises(ValueError):
        decode_texts(layout, digit_scores, ["12a"])
    with pytest.raises(ValueError):
        decode_texts(layout, digit_scores[:2], ["12"])
    # A wide gap before atom 2.
    wide = LineLayout(
        atoms=tuple(Atom(i, Box(x, 0, 10, 10), np.ones((10, 10), bool), False, False) for i, x in enumerate([0, 12, 40, 52])),
        candidates=tuple(Candidate(i, i + 1, np.zeros((1, 1), np.uint8), Box(0, 0, 1, 1), 0.0) for i in range(4)),
        line_height=10.0, angle=0.0, scale=1.0,
    )
    spaced = decode_texts(wide, np.zeros((4, 10)), ["12 34", "1 234", "1234"])
    assert spaced[0] is not None and spaced[0][0] == (0, 1, " ", 2, 3)
    assert spaced[1] is None
    assert spaced[2] is not None and spaced[2][0] == (0, 1, 2, 3)
