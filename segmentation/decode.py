"""Best path through a line's candidates by dynamic programming, optionally with a fixed digit count."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from segmentation.types import LineLayout

__all__ = ["MAX_DIGITS", "Token", "decode", "decode_pattern", "decode_texts", "geometric_scores", "geometric_skip_scores", "hyphen_scores", "parse_pattern"]


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


@dataclass(frozen=True, slots=True)
class Token:
    """One element of a format pattern: ``lo``-``hi`` digits, or one separator ``char``."""

    kind: str  # "digit" or "separator"
    lo: int = 1
    hi: int = 1
    char: str = ""


#: The most digits a pattern may ask of a line: as many as a line is ever read as
#: (``seqdigits.MAX_LINE_DIGITS``). A count past it could never be met, and the pattern's tables
#: grow with it (``\d{5}-\d{100000000}`` asked for 24 GB).
MAX_DIGITS = 64

_TOKEN = re.compile(r"(?:\\d|\[0-9\])(?:\{(\d+)(?:,(\d*))?\}|([+*?]))?|(-)|( |\\s)")


def parse_pattern(pattern: str) -> tuple[tuple[Token, ...], ...]:
    r"""Parse a format pattern into alternatives of tokens.

    Accepted: ``\d`` or ``[0-9]`` with an optional ``{n}``, ``{n,m}``, ``{n,}``, ``+``, ``*``
    or ``?``; a literal ``-``; a space or ``\s``; alternatives joined by ``|``; an optional
    ``^``/``$`` around the whole. Examples: ``\d{5}``, ``\d{5}-\d{4}``, ``\d{5}|\d{5}-\d{4}``.
    Raises ``ValueError`` naming what it cannot read, or a count over :data:`MAX_DIGITS`
    (unbounded ``+``, ``*`` and ``{n,}`` stop there).
    """
    if not pattern:
        raise ValueError("empty pattern")
    alternatives = []
    for alternative in pattern.split("|"):
        text = alternative.removeprefix("^").removesuffix("$")
        tokens: list[Token] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise ValueError(f"cannot read pattern {pattern!r} at {text[pos:]!r}: use \\d, \\d{{n}}, \\d{{n,m}}, -, space, |")
            exact, upper, suffix, hyphen, space = match.groups()
            if hyphen or space:
                tokens.append(Token("separator", char="-" if hyphen else " "))
            else:
                if exact is not None:
                    lo = int(exact)
                    hi = lo if upper is None else (int(upper) if upper else MAX_DIGITS)
                    if max(lo, hi) > MAX_DIGITS:
                        raise ValueError(
                            f"pattern {pattern!r}: {{{exact}{'' if upper is None else ',' + upper}}} asks for more "
                            f"than {MAX_DIGITS} digits, the most a line is read as"
                        )
                else:
                    lo, hi = {None: (1, 1), "+": (1, MAX_DIGITS), "*": (0, MAX_DIGITS), "?": (0, 1)}[suffix]
                if hi < lo:
                    raise ValueError(f"pattern {pattern!r}: {{{lo},{hi}}} is an empty range")
                if tokens and tokens[-1].kind == "digit":  # \d\d{2} is \d{3}
                    prev = tokens.pop()
                    lo, hi = prev.lo + lo, min(MAX_DIGITS, prev.hi + hi)
                tokens.append(Token("digit", lo=lo, hi=hi))
            pos = match.end()
        if not any(t.kind == "digit" and t.hi > 0 for t in tokens):
            raise ValueError(f"pattern {pattern!r} has an alternative with no digits")
        if (least := sum(t.lo for t in tokens if t.kind == "digit")) > MAX_DIGITS:
            raise ValueError(
                f"pattern {pattern!r} has an alternative of at least {least} digits, more than the "
                f"{MAX_DIGITS} a line is read as"
            )
        alternatives.append(tuple(tokens))
    return tuple(alternatives)


def hyphen_scores(layout: LineLayout) -> list[float]:
    """Per atom, 0.0 when it can be a hyphen (a short flat dash at mid-height of the line), else -inf."""
    if not layout.atoms:
        return []
    h = layout.line_height
    top = float(np.median([a.box.y for a in layout.atoms if a.box.height >= 0.5 * h] or [0]))
    scores = []
    for atom in layout.atoms:
        b = atom.box
        centre = b.y + b.height / 2.0 - top
        dash = (
            not (atom.cut_left or atom.cut_right)
            and b.height < 0.4 * h
            and b.width >= 1.5 * b.height
            and 0.15 * h <= b.width <= 1.2 * h
            and 0.2 * h <= centre <= 0.8 * h
        )
        scores.append(0.0 if dash else -math.inf)
    return scores


def decode_pattern(
    layout: LineLayout,
    scores: Sequence[float],
    tokens: tuple[Token, ...],
    *,
    skip_scores: Sequence[float] | None = None,
) -> tuple[tuple[int | str, ...], float] | None:
    """Best cover of the atoms that spells ``tokens``: candidate indices and separator characters, and its score.

    A ``-`` separator consumes one atom that looks like a hyphen; a space needs a gap of at
    least 0.4 line heights between the groups. None when no cover fits the pattern.
    """
    atoms = len(layout.atoms)
    skips = [-math.inf] * atoms if skip_scores is None else list(skip_scores)
    dashes = hyphen_scores(layout)
    starting: list[list[int]] = [[] for _ in range(atoms + 1)]
    for i, cand in enumerate(layout.candidates):
        starting[cand.start].append(i)
    n_tok = len(tokens)
    widest = max((t.hi for t in tokens if t.kind == "digit"), default=0)
    # best[pos][t][c]: score with atoms [0, pos) read, inside token t with c digits of it so far.
    best = np.full((atoms + 1, n_tok + 1, widest + 1), -math.inf)
    back: dict[tuple[int, int, int], tuple[int, int, int, int | str | None]] = {}
    best[0, 0, 0] = 0.0

    def relax(state: tuple[int, int, int], value: float, came: tuple[int, int, int], step: int | str | None) -> None:
        if value > best[state]:
            best[state] = value
            back[state] = (*came, step)

    for pos in range(atoms + 1):
        for t in range(n_tok + 1):  # epsilon moves go t -> t+1, so t ascends
            for c in range(widest + 1):
                here = best[pos, t, c]
                if here == -math.inf:
                    continue
                if t < n_tok and tokens[t].kind == "digit":
                    tok = tokens[t]
                    if c >= tok.lo:
                        relax((pos, t + 1, 0), here, (pos, t, c), None)
                    if c < tok.hi:
                        for i in starting[pos] if pos < atoms else []:
                            end = layout.candidates[i].end
                            relax((end, t, c + 1), here + scores[i], (pos, t, c), i)
                elif t < n_tok and c == 0:
                    sep = tokens[t]
                    if sep.char == "-" and pos < atoms and dashes[pos] > -math.inf:
                        relax((pos + 1, t + 1, 0), here + dashes[pos], (pos, t, c), "-")
                    if sep.char == " " and 0 < pos < atoms:
                        a, b = layout.atoms[pos - 1], layout.atoms[pos]
                        if b.box.x - a.box.right >= 0.4 * layout.line_height:
                            relax((pos, t + 1, 0), here, (pos, t, c), " ")
                if pos < atoms and skips[pos] > -math.inf:
                    relax((pos + 1, t, c), here + skips[pos], (pos, t, c), "skip")

    final = (atoms, n_tok, 0)
    if best[final] == -math.inf:
        return None
    steps: list[int | str] = []
    state = final
    while state != (0, 0, 0):
        *prev, step = back[state]
        if step is not None and step != "skip":
            steps.append(step)
        state = (prev[0], prev[1], prev[2])
    return tuple(reversed(steps)), float(best[final])


def decode_texts(
    layout: LineLayout,
    digit_scores: npt.NDArray[np.float64],
    texts: Sequence[str],
    *,
    skip_scores: Sequence[float] | None = None,
) -> list[tuple[tuple[int | str, ...], float] | None]:
    """For each of ``texts``, the best cover of the atoms that spells it, and its score.

    ``digit_scores``: float (N, 10), the log-score of candidate ``i`` read as digit ``d``
    (higher is better). A text holds digits, ``-`` (consumes one atom that looks like a
    hyphen) and spaces (a gap of at least 0.4 line heights between the groups), as in
    :func:`decode_pattern`. Each result holds candidate indices and separator characters, or
    is None when no cover spells that text (the cut it needs was never proposed). All texts
    are aligned together, one step per atom.
    """
    atoms = len(layout.atoms)
    if digit_scores.shape != (len(layout.candidates), 10):
        raise ValueError(f"digit_scores must be ({len(layout.candidates)}, 10), got {digit_scores.shape}")
    if not texts:
        return []
    skips = np.full(atoms, -math.inf) if skip_scores is None else np.asarray(skip_scores, np.float64)
    n_text, longest = len(texts), max(len(t) for t in texts)
    # Per text and position: the digit wanted there (-1 for a separator or past the end).
    wanted = np.full((n_text, longest), -1, np.int64)
    hyphen = np.zeros((n_text, longest), bool)
    space = np.zeros((n_text, longest), bool)
    for h, text in enumerate(texts):
        for k, ch in enumerate(text):
            if ch.isdigit():
                wanted[h, k] = int(ch)
            elif ch == "-":
                hyphen[h, k] = True
            elif ch == " ":
                space[h, k] = True
            else:
                raise ValueError(f"cannot spell {ch!r}: texts hold digits, '-' and ' '")
    # gain[i, h, k]: score of candidate i as character k of text h (-inf where k is no digit).
    gain = np.where(wanted >= 0, digit_scores[:, np.maximum(wanted, 0)], -math.inf)
    dashes = np.asarray(hyphen_scores(layout), np.float64) if atoms else np.zeros(0)
    ending: list[list[int]] = [[] for _ in range(atoms + 1)]
    for i, cand in enumerate(layout.candidates):
        ending[cand.end].append(i)
    best = np.full((atoms + 1, n_text, longest + 1), -math.inf)
    best[0, :, 0] = 0.0
    # How each state was reached: the candidate (>= 0), a skipped atom (-1), a hyphen atom (-2)
    # or a space (-3, no atom), with the atom position it came from.
    came = np.full((atoms + 1, n_text, longest + 1), -4, np.int64)
    came_pos = np.zeros((atoms + 1, n_text, longest + 1), np.int64)
    rows = np.arange(n_text)[:, None]
    cols = np.arange(longest)[None, :]
    for pos in range(atoms + 1):
        if pos > 0:
            arriving = ending[pos]
            if arriving:
                starts = np.array([layout.candidates[i].start for i in arriving])
                reach = best[starts, :, :-1] + gain[arriving]  # (m, texts, longest)
                pick = reach.argmax(axis=0)
                value = reach[pick, rows, cols]
                _relax(best[pos, :, 1:], came[pos, :, 1:], came_pos[pos, :, 1:], value, np.asarray(arriving)[pick], starts[pick])
            if skips[pos - 1] > -math.inf:  # a skipped atom leaves the character count as it is
                _relax(best[pos], came[pos], came_pos[pos], best[pos - 1] + skips[pos - 1], -1, pos - 1)
            if dashes[pos - 1] > -math.inf:  # a hyphen atom is the separator character k
                value = np.where(hyphen, best[pos - 1, :, :-1] + dashes[pos - 1], -math.inf)
                _relax(best[pos, :, 1:], came[pos, :, 1:], came_pos[pos, :, 1:], value, -2, pos - 1)
        wide_gap = 0 < pos < atoms and layout.atoms[pos].box.x - layout.atoms[pos - 1].box.right >= 0.4 * layout.line_height
        if wide_gap and space.any():
            for k in range(longest):  # ascending: a space follows what came before it here
                value = np.where(space[:, k], best[pos, :, k], -math.inf)
                _relax(best[pos, :, k + 1], came[pos, :, k + 1], came_pos[pos, :, k + 1], value, -3, pos)
    results: list[tuple[tuple[int | str, ...], float] | None] = []
    for h, text in enumerate(texts):
        score = float(best[atoms, h, len(text)])
        if score == -math.inf:
            results.append(None)
            continue
        steps: list[int | str] = []
        pos, k = atoms, len(text)
        while pos > 0 or k > 0:
            how, back = int(came[pos, h, k]), int(came_pos[pos, h, k])
            if how >= 0:
                steps.append(how)
                k -= 1
            elif how in (-2, -3):
                steps.append(text[k - 1])
                k -= 1
            pos = back
        results.append((tuple(reversed(steps)), score))
    return results


def _relax(
    best: npt.NDArray[np.float64],
    came: npt.NDArray[np.int64],
    came_pos: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    step: int | npt.NDArray[np.int64],
    origin: int | npt.NDArray[np.int64],
) -> None:
    """Where ``value`` beats ``best`` (views into the DP tables), take it, and record how (``step``) and from where."""
    better = value > best
    best[better] = value[better]
    came[better] = step[better] if isinstance(step, np.ndarray) else step
    came_pos[better] = origin[better] if isinstance(origin, np.ndarray) else origin
