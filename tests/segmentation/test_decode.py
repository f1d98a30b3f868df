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
