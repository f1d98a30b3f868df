"""Best path through a line's candidates by dynamic programming, optionally with a fixed digit count."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from segmentation.types import LineLayout

__all__ = ["decode", "geometric_scores", "geometric_skip_scores"]


def geometric_scores(layout: LineLayout) -> list[float]:
    """Candidate scores from shape alone (no classifier): the priors."""
    return [c.prior for c in layout.candidates]


def geometric_skip_scores(layout: LineLayout, *, small: float = 0.5) -> list[float]:
    """Per atom, the log-score for leaving it out as a stray mark, from shape alone.

    Atoms under ``small`` x line height may be left out (a dot, a tick, a
    piece of a neighbouring field); the smaller, the cheaper. A piece cut off
    a component may be left out only when flat (under 0.4 line heights): the
    remains of a rule that a digit touched.
    """
    scores = []
    for atom in layout.atoms:
        ratio = atom.box.height / layout.line_height if layout.line_height else 1.0
        whole = not (atom.cut_left or atom.cut_right)
        allowed = ratio < small if whole else ratio < 0.4
        scores.append(-(1.0 + 4.0 * ratio) if allowed else -math.inf)
    return scores


def decode(
    layout: LineLayout,
    scores: Sequence[float],
    *,
    length: int | None = None,
    skip_scores: Sequence[float] | None = None,
) -> tuple[int, ...]:
    """Indices into ``layout.candidates`` of the best left-to-right cover of the atoms.

    ``scores``: one log-score per candidate (higher is better); a path's score
    is their sum. ``skip_scores``: optional log-score per atom for leaving it
    out as a stray mark (``-inf`` forbids it); by default every atom belongs
    to some digit. ``length``: the number of digits wanted; when no path has
    exactly that many, the best path of any length is returned.
    """
    atoms = len(layout.atoms)
    if len(scores) != len(layout.candidates):
        raise ValueError(f"{len(scores)} scores for {len(layout.candidates)} candidates")
    if length is not None and length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if atoms == 0:
        return ()
    skips = [-math.inf] * atoms if skip_scores is None else list(skip_scores)
    if len(skips) != atoms:
        raise ValueError(f"{len(skips)} skip scores for {atoms} atoms")

    ending: list[list[int]] = [[] for _ in range(atoms + 1)]
    for i, cand in enumerate(layout.candidates):
        ending[cand.end].append(i)
    most = atoms  # no path has more digits than atoms
    best = np.full((atoms + 1, most + 1), -math.inf)
    best[0, 0] = 0.0
    # back[pos, k] = candidate index used to reach (pos, k), or -1 for a skipped atom.
    back = np.full((atoms + 1, most + 1), -2, dtype=np.int64)
    for pos in range(1, atoms + 1):
        for i in ending[pos]:
            start = layout.candidates[i].start
            reach = best[start, :-1] + scores[i]
            better = reach > best[pos, 1:]
            best[pos, 1:][better] = reach[better]
            back[pos, 1:][better] = i
        if skips[pos - 1] > -math.inf:
            reach = best[pos - 1] + skips[pos - 1]
            better = reach > best[pos]
            best[pos][better] = reach[better]
            back[pos][better] = -1

    final = best[atoms]
    if length is not None and length <= most and final[length] > -math.inf:
        k = length
    else:
        k = int(np.argmax(final))
        if final[k] == -math.inf:
            return ()
    path: list[int] = []
    pos = atoms
    while pos > 0:
        i = int(back[pos, k])
        if i == -1:
            pos -= 1
            continue
        path.append(i)
        pos = layout.candidates[i].start
        k -= 1
    return tuple(reversed(path))
