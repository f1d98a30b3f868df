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


def test_pattern_decoding_counts_digits_and_places_separators() -> None:
    from segmentation.decode import decode_pattern, parse_pattern

    # Atoms 0-4, with atom 2 a dash: flat, mid-height.
    boxes = [Box(0, 0, 10, 10), Box(12, 0, 10, 10), Box(24, 4, 6, 2), Box(32, 0, 10, 10), Box(44, 0, 10, 10)]
    atom_list = tuple(Atom(i, b, np.ones((b.height, b.width), bool), False, False) for i, b in enumerate(boxes))
    spans = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 2)]
    cands = tuple(Candidate(s, e, np.zeros((1, 1), np.uint8), Box(0, 0, 1, 1), 0.0) for s, e in spans)
    layout = LineLayout(atoms=atom_list, candidates=cands, line_height=10.0, angle=0.0, scale=1.0)
    scores = [-0.1, -0.1, -9.0, -0.1, -0.1, -3.0]
    found = decode_pattern(layout, scores, parse_pattern(r"\d{2}-\d{2}")[0])
    assert found is not None and found[0] == (0, 1, "-", 3, 4)
    # Four digits: only by merging [0, 2) and reading the dash as a digit.
    found = decode_pattern(layout, scores, parse_pattern(r"\d{4}")[0])
    assert found is not None and found[0] == (5, 2, 3, 4) and found[1] == pytest.approx(-12.2)
    # No cover of these atoms has three or nine digits.
    assert decode_pattern(layout, scores, parse_pattern(r"\d{3}")[0]) is None
    assert decode_pattern(layout, scores, parse_pattern(r"\d{9}")[0]) is None
