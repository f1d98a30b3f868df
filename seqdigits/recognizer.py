"""The pipeline: decode -> binarize -> over-segment -> classify every candidate in one batch -> decode the best path."""

from __future__ import annotations

import itertools
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from classifier.line_model import (
    LineEnsemble,
    LineReader,
    LineWeights,
    ctc_alignment,
    ensemble_candidates,
    ensemble_log_likelihoods,
    load_line_ensemble,
    log_mean_exp,
)
from classifier.model import CLASSES, NOT_A_DIGIT
from classifier.predict import CheckpointError, DigitClassifier, digit_probabilities
from classifier.preprocess import LineConfig, line_x, normalize_line
from segmentation import (
    LINE_ASPECT,
    MAX_DIGITS,
    MAX_SPECK,
    LineLayout,
    Token,
    binarize,
    cut_atoms,
    decode,
    decode_pattern,
    decode_texts,
    estimate_line_height,
    geometric_skip_scores,
    ink_axis,
    one_stroke,
    parse_pattern,
    propose_lines,
    shrunk,
    widen_candidates,
    writing_region,
)
from seqdigits.errors import ImageError, WeightsError
from seqdigits.image import DEFAULT_MAX_PIXELS, ImageInput, load_gray
from seqdigits.reading import Alternative, Box, Character, Reading

__all__ = ["MAX_LINE_DIGITS", "Recognizer", "check_options", "load_recognizer", "read"]




#: Candidates a line's atoms get when no path through its candidates spells the line models'
#: likeliest string (see Recognizer._read_prepared): at most this many atoms and line heights
#: wide, against propose's 8 and 1.6. A wide hand's digits, or a digit broken into many pieces
#: and cut again, are wider, or more atoms, than a candidate may be.
_WIDE_ATOMS = 14
_WIDE_RATIO = 2.4
#: The most digits one line is read as. No postal code, house number, phone or account number
#: comes near it; a line read as more is not read (an empty reading, for review). It was noise
#: taken for tiny writing, whose per-digit distributions asked for 26 and 76 GB on two such images.
MAX_LINE_DIGITS = MAX_DIGITS  # 64; a pattern may ask for no more (segmentation.parse_pattern)
#: The most atoms (pieces the segmenter cut) a line to be read may have: 8 a digit. On 700 of the
#: validation photos, their lines had a median 2.4 atoms a digit, 4.3 at the 99th percentile, 6 at most.
_MAX_LINE_ATOMS = 8 * MAX_LINE_DIGITS
#: The widest a line to be read may be, in its own line heights: 4 a digit. On 880 of the
#: validation photos their lines spanned a median 3.6 line heights, 10.6 at most (5 digits). A
#: page of specks read as lines 1 px tall gave lines up to 1 373 line heights wide, which the
#: line models were handed as images tens of thousands of px wide (110 s for one photo).
_MAX_LINE_SPAN = 4 * MAX_LINE_DIGITS
#: The least line height (px, at the size a line is read at) a line to be read may have: writing
#: under 20 px is enlarged to 32 px where the page allows it, and a "line" 1-3 px tall is specks.
_MIN_LINE_HEIGHT = 4.0
#: The most images :meth:`Recognizer.read_batch` and ``read_each`` prepare at once (threads; no
#: more than the machine's cores).
_PREPARE_THREADS = 4
#: Longest side (px) of the copy of a big image its writing's height is measured on.
_MEASURE_SIDE = 800
#: Longest side (px) of the first copy of an image at least twice _MEASURE_SIDE (a phone photo):
#: writing measured tall there is measured there (see Recognizer._prepare).
_GLANCE_SIDE = 400
#: A mark from one side of the page to the other at least _LINE_ACROSS times as wide as it is
#: tall (a line, as segmentation measures one: see ``segmentation.LINE_ASPECT``), no column of
#: which holds ink more than twice as tall as its median column's and 2 px, nor more than twice
#: its ink and 2 px, is a line across the page (a rule, a fold), no writing: digits that sit on a
#: line running the page's width stand out of it, and a digit that joins two rules adds its
#: strokes' ink.
_LINE_ACROSS = LINE_ASPECT
#: Writing measured under _SMALL_WRITING px tall is enlarged to _ENLARGED_TO px before it is
#: binarized and cut. On lines of 5 MNIST test digits shrunk to 6-24 px (60 a size), it read
#: 0, 4, 14, 30, 40, 54, 57 and 58 right at 6, 7, 8, 10, 12, 16, 20 and 24 px as it was, and
#: 44, 53, 56, 60, 59, 58, 58 and 58 enlarged to 32 px (48 px read no better).
_SMALL_WRITING = 20.0
_ENLARGED_TO = 32.0
_MIN_ENLARGE = 1.25
#: Writing of two marks or more (components with a tenth of the largest one's ink) whose ink is
#: at least _COLUMN_ELONGATION times as long as wide, along an axis within _COLUMN_TILT degrees
#: of upright, is read as a line turned sideways (a photo with no EXIF orientation). One mark
#: is not enough: a lone 1, 6 or 9 is as upright and as long (but see _LONE_MARK_ELONGATION).
_COLUMN_ELONGATION = 2.0
_COLUMN_TILT = 25.0
#: One mark that long (a turned line whose digits all touch, or a lone 1 standing tall) is read
#: turned back too, but its reading as it stands competes with the turned ones.
_LONE_MARK_ELONGATION = 3.0


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One line of writing of an image, and the image's size; ``turn``: quarter turns
    (counter-clockwise, as ``np.rot90``) the mask was given before segmentation."""

    layout: LineLayout
    width: int
    height: int
    turn: int = 0
    #: Upright writing that may be a lone digit standing (one long mark, or a 1 in pieces): its
    #: reading as it stands competes with the turned ones.
    competes: bool = False
    #: (left, top, width, height) in the image's pixels of the part of it that was read, where
    #: that is not all of it (small writing in a big image): the boxes are found within it.
    region: tuple[int, int, int, int] | None = None


#: An image's lines, each way it is read (see ``Recognizer._prepare``), or the error that refused it.
_Outcome = tuple[tuple[_Prepared, ...], ...] | ImageError


class Recognizer:
    """Reads lines of handwritten digits. Build one with :func:`load_recognizer` and reuse it.

    Thread-safe: ``read`` holds no state between calls.
    """

    def __init__(
        self,
        classifier: DigitClassifier,
        *,
        line_reader: LineReader | LineEnsemble | None = None,
        segment_weight: float = 0.25,
        segment_cap: float = 2.0,
        beam: int = 6,
        max_side: int = 1600,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        alternatives: int = 3,
        skip_bias: float = 2.0,
        min_confidence: float = 0.9,
        pattern_slack: float = 6.0,
        trust_whole: float = 0.95,
        line_height: int = 48,
    ) -> None:
        """``max_side``: longer side (px) images are shrunk to before segmentation;
        ``max_pixels``: decoding limit; ``alternatives``: per character;
        ``skip_bias``: log-odds a mark must exceed as "not a digit" to be left out;
        ``min_confidence``: readings less likely than this to be right get ``needs_review``;
        ``pattern_slack``: how much less likely (in log-probability) than the best free reading a
        reading that fits the pattern may be; ``trust_whole``: probability above which a connected
        component read as one digit is not also tried in pieces (1.0 tries every cut; so does a
        read with a ``length`` or ``pattern``);
        ``line_height``: writing taller than twice this (px) is scaled down to it first;
        ``line_reader``: the line model (CTC) that scores whole strings, or an ensemble of them
        (:class:`~classifier.line_model.LineEnsemble`); without one, the digit CNN's best path
        through the candidates is the reading. With one, the ``beam`` best strings of each
        line model and the CNN's best path compete, each spelled by its best
        path through the candidates, on the line model's log-probability plus
        ``segment_weight`` x the path's score, which counts no lower than ``segment_cap`` under
        the best of the competing paths' scores (``math.inf``: no cap)."""
        if segment_weight < 0.0:
            raise ValueError(f"segment_weight must be >= 0, got {segment_weight}")
        if not segment_cap > 0.0:
            raise ValueError(f"segment_cap must be > 0, got {segment_cap}")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within [0, 1], got {min_confidence}")
        self.classifier = classifier
        self.lines: LineEnsemble | None = LineEnsemble((line_reader,)) if isinstance(line_reader, LineReader) else line_reader
        self.segment_weight = segment_weight
        self.segment_cap = segment_cap
        self.beam = beam
        self.max_side = max_side
        self.max_pixels = max_pixels
        self.alternatives = alternatives
        self.skip_bias = skip_bias
        self.min_confidence = min_confidence
        self.pattern_slack = pattern_slack
        self.trust_whole = trust_whole
        self.line_height = line_height

    def _prepare(self, image: ImageInput) -> tuple[tuple[_Prepared, ...], ...]:
        """The image's lines of writing, top to bottom (one, empty, when nothing is written);
        for writing that stands upright, also the lines of the mask turned a quarter each way."""
        gray, height, width = load_gray(image, max_pixels=self.max_pixels, min_side=self.max_side)
        source = gray
        # Working pixels per input pixel: a big JPEG may already come decoded smaller.
        decoded = max(gray.shape) / max(height, width)
        shrink = min(1.0, self.max_side / max(gray.shape))
        if shrink < 1.0:
            gray = shrunk(gray, shrink)
        scale = decoded * shrink
        # Big writing (a phone photo of a door number) is brought down to about the size of the
        # training lines: the same cuts, crops that downscale as MNIST's did, and far less work.
        # A big image is measured on a copy of at most _MEASURE_SIDE px: a quarter of the pixels
        # or fewer to binarize and search for rules, and writing tall enough to need shrinking
        # is still tall enough to measure there.
        glance = None
        if max(gray.shape) >= 2 * _MEASURE_SIDE:
            # A phone photo's writing is often big: measured tall on a copy of _GLANCE_SIDE px, it
            # is measured there, a quarter of the pixels to binarize; else as any image is.
            factor = _GLANCE_SIDE / max(gray.shape)
            glance = self._measured(gray, factor, glance=True)
            if glance[-1] <= self._tall(factor):
                glance = None
        measured = glance or self._measured(gray, min(1.0, _MEASURE_SIDE / max(gray.shape)))
        copy, coarse, mask, upright, competes, line_height = measured
        # (Specks measure small; a line across the page runs from one side to the other.)
        suspect = line_height / coarse < _SMALL_WRITING or bool(mask[:, 0].any() and mask[:, -1].any())
        if suspect and not _holds_writing(mask, across=False):
            # Specks alone are no writing, however small, nor is a line across the page: a blank
            # page's noise, the dark spot where two folds cross, or a line across that a line down
            # the page crossed (its region, read enlarged on its own, holds the other's piece),
            # read as digits.
            blank = propose_lines(np.zeros_like(mask), scale=scale)
            return (tuple(_Prepared(layout, width, height) for layout in blank),)
        tall = self._tall(coarse)
        region = None
        # Small writing is enlarged: binarized, cut and normalized at 10 px a digit it loses
        # what MNIST's 20 px show, and reads far worse (see _SMALL_WRITING). Never past the
        # longest side a big image is shrunk to, which bounds the work (noise, whose specks
        # measure a few px, included): where the whole page cannot be, its writing's region
        # alone is; and where neither allows _MIN_ENLARGE, the writing is read as it is.
        want = _ENLARGED_TO * coarse / line_height if line_height > 0 else 1.0
        if line_height > tall:
            factor = self.line_height / (line_height / coarse)
            gray = shrunk(gray, factor)
            scale *= factor
        elif line_height / coarse < _SMALL_WRITING and not competes:
            # (A mark that may be a lone digit standing measures its width when turned.)
            enlarge = min(want, self.max_side / max(gray.shape))
            # Where the page at the size its writing needs would be too big, the writing's
            # region alone is read at that size, from the image's own pixels.
            least = scale * max(enlarge, _MIN_ENLARGE)
            crop = None
            if want > enlarge:
                crop = self._region(image, source, mask, coarse * scale, want * scale, least, (height, width))
            if crop is not None:
                gray, scale, region = crop
            elif enlarge >= _MIN_ENLARGE:
                gray = _enlarged(gray, enlarge)
                scale *= enlarge
        if gray is not copy:
            # The writing is read at the working size (shrunk, enlarged or its region), which
            # the mask is of only where that is the copy it was measured on.
            mask = binarize(gray)
        return tuple(
            tuple(
                _Prepared(layout=layout, width=width, height=height, turn=turn, competes=competes, region=region)
                for layout in propose_lines(np.ascontiguousarray(np.rot90(mask, turn)), scale=scale)
            )
            for turn in ((0, 1, 3) if upright else (0,))
        )

    def _tall(self, scale: float) -> float:
        """The line height (px, on a copy ``scale`` times the working size) over which writing is
        shrunk to ``line_height``: twice it."""
        return 2 * self.line_height * scale

    def _measured(
        self, gray: npt.NDArray[np.uint8], coarse: float, *, glance: bool = False
    ) -> tuple[npt.NDArray[np.uint8], float, npt.NDArray[np.bool_], bool, bool, float]:
        """The writing of ``gray`` measured on a copy ``coarse`` times its size (1.0: itself):
        the copy, its scale (1.0 where the copy held no ink: measured on ``gray`` then), its ink,
        whether the writing stands upright and may be a lone digit standing (see
        :func:`_stands_upright`), and its line height in the copy's px. A ``glance`` measures
        only two marks or more that do not run from edge to edge (a lone mark measured tall, as
        a line down a blank page, is measured as before, and so are folds down one: see
        :func:`_marks`), on the copy alone: 0.0 for other writing."""
        copy = gray if coarse == 1.0 else shrunk(gray, coarse)
        mask = binarize(copy)
        if glance and _marks(mask, edge_to_edge=False) < 2:
            return copy, coarse, mask, False, False, 0.0
        if not glance and coarse < 1.0 and not _holds_writing(mask):
            # Writing a few px tall on the small copy can be too faint there to find, or specks
            # there; the page is binarized at the working size in any case, and measured there.
            coarse, copy = 1.0, gray
            mask = binarize(gray)
        upright, competes = _stands_upright(mask)
        # Writing that stands upright is measured as the line it is when turned.
        measured = np.ascontiguousarray(np.rot90(mask)) if upright else mask
        line_height = estimate_line_height(measured)
        if line_height > self._tall(coarse):
            # Worth a second look before shrinking: a thick box or a tilted line measures tall.
            line_height = estimate_line_height(measured, thorough=True)
        return copy, coarse, mask, upright, competes, line_height

    def _region(
        self,
        image: ImageInput,
        source: npt.NDArray[np.uint8],
        mask: npt.NDArray[np.bool_],
        per_mask: float,
        want: float,
        least: float,
        size: tuple[int, int],
    ) -> tuple[npt.NDArray[np.uint8], float, tuple[int, int, int, int]] | None:
        """The writing's region of an image (``size``: its height and width) whose small writing
        is read best at ``want`` px per image px, and would be read at ``least`` on the whole
        page: uint8 (h, w) gray at the most of ``want`` that keeps it within ``max_side``, its px
        per image px, and its (left, top, width, height) in the image's px; None where that is
        no more than ``least`` (the writing's region is much of the page: marks all over it, or
        noise). ``mask``: ink of a copy at ``per_mask`` px per image px; ``source``: the image as
        first decoded (a JPEG perhaps smaller than ``size``)."""
        # A line across the page that the writing stands on (one mark with it) is no writing:
        # its rows, inked along half the page's width or more, do not spread the region over
        # the page. (Only there: beside a bare line, a fold's stub was the region, enlarged.)
        across = np.count_nonzero(mask, axis=1) >= 0.5 * mask.shape[1]
        found = writing_region(mask & ~across[:, None] if _stands_on(mask, across) else mask)
        if found is None:
            return None
        height, width = size
        top, bottom = max(0, math.floor(found[0] / per_mask)), min(height, math.ceil(found[1] / per_mask))
        left, right = max(0, math.floor(found[2] / per_mask)), min(width, math.ceil(found[3] / per_mask))
        target = min(want, self.max_side / max(bottom - top, right - left))
        if target <= least:
            return None
        decoded = source.shape[0] / height
        if decoded < min(target, 1.0):
            # A JPEG decoded at a reduced size holds too few of the pixels: decode it again, at
            # the smallest size that holds enough.
            source = load_gray(image, max_pixels=self.max_pixels, min_side=math.ceil(max(height, width) * target)).gray
            decoded = source.shape[0] / height
        pixels = source[round(top * decoded) : round(bottom * decoded), round(left * decoded) : round(right * decoded)]
        factor = target / decoded
        crop = shrunk(pixels, factor) if factor < 1.0 else _enlarged(pixels, factor) if factor > 1.0 else pixels
        return np.ascontiguousarray(crop), crop.shape[0] / (bottom - top), (left, top, right - left, bottom - top)

    def _reading(
        self,
        prepared: _Prepared,
        probs: npt.NDArray[np.float64],
        line_log_probs: list[npt.NDArray[np.float64]] | None,
        length: int | None,
        min_confidence: float,
        pattern: tuple[tuple[Token, ...], ...] | None = None,
        *,
        widen: bool = False,
    ) -> Reading | None:
        """The reading of one line; with ``widen``, None where the line models' likeliest string
        cannot be spelled through the candidates (read it again with wider ones)."""
        layout = prepared.layout
        if layout.empty:
            return _empty_reading(prepared, min_confidence, pattern)
        digit_p = digit_probabilities(probs)
        # Candidate i read as digit d: the CNN's log-probability plus the cuts' geometric prior.
        logs = np.log(np.maximum(digit_p, 1e-12)) + np.array([c.prior for c in layout.candidates])[:, None]
        scores = logs.max(axis=1).tolist()
        # A whole component may be left out when the CNN calls it no digit, or when it is a small mark.
        skips = geometric_skip_scores(layout)
        for i, c in enumerate(layout.candidates):
            atom = layout.atoms[c.start]
            if c.end == c.start + 1 and not (atom.cut_left or atom.cut_right):
                rejected = math.log(max(float(probs[i, NOT_A_DIGIT]), 1e-12)) - self.skip_bias
                skips[c.start] = max(skips[c.start], rejected)
        free = decode(layout, scores, length=length, skip_scores=skips)
        steps: tuple[int | str, ...] = free
        unmet = False
        if pattern is not None:
            fits = [found for tokens in pattern if (found := decode_pattern(layout, scores, tokens, skip_scores=skips))]
            best_fit = max(fits, key=lambda found: found[1]) if fits else None
            # Fit the pattern where the evidence allows: not by dropping or inventing confident digits.
            if best_fit is not None and best_fit[1] >= _path_score(layout, free, scores, skips) - self.pattern_slack:
                steps = best_fit[0]
            else:
                unmet = True
        if line_log_probs is not None:
            return self._line_reading(
                prepared, digit_p, logs, skips, line_log_probs, steps, length, min_confidence, pattern, widen=widen
            )
        path = [i for i in steps if isinstance(i, int)]
        if len(path) > MAX_LINE_DIGITS:
            return _empty_reading(prepared, min_confidence, pattern)
        characters = []
        for i in path:
            order = np.argsort(-digit_p[i])
            top = int(order[0])
            characters.append(
                Character(
                    digit=str(top),
                    confidence=float(digit_p[i, top]),
                    box=layout.candidates[i].box,
                    alternatives=tuple(
                        Alternative(digit=str(int(d)), confidence=float(digit_p[i, d])) for d in order[1 : 1 + self.alternatives]
                    ),
                )
            )
        digits = iter(characters)
        text = "".join(step if isinstance(step, str) else next(digits).digit for step in steps)
        confidence = float(np.prod([c.confidence for c in characters])) if characters else 0.0
        return Reading(
            text=text, confidence=confidence, characters=tuple(characters), width=prepared.width, height=prepared.height,
            needs_review=confidence < min_confidence or unmet,
        )

    def _line_reading(
        self,
        prepared: _Prepared,
        digit_p: npt.NDArray[np.float64],
        logs: npt.NDArray[np.float64],
        skips: list[float],
        log_probs: Sequence[npt.NDArray[np.float64]],
        segmented: tuple[int | str, ...],
        length: int | None,
        min_confidence: float,
        pattern: tuple[tuple[Token, ...], ...] | None,
        *,
        widen: bool = False,
    ) -> Reading | None:
        """The reading when a line model is loaded: the line model's best strings and the CNN's
        best path compete (see :class:`Recognizer`); ``segmented`` is the CNN's path; ``logs``
        (N, 10) the candidates' scores as each digit, as the CNN's path was scored. With
        ``widen``, None where no path spells the line models' likeliest string."""
        layout = prepared.layout
        spelled = "".join(s if isinstance(s, str) else str(int(digit_p[s].argmax())) for s in segmented)
        texts = {spelled}
        for text in ensemble_candidates(log_probs, width=self.beam):
            if length is None or len(text) == length:
                texts.add(text)
                if pattern is not None:
                    texts.update(_spellings(text, pattern))
        ordered = sorted(texts)
        likelihoods = ensemble_log_likelihoods(log_probs, [_digits(text) for text in ordered]).tolist()
        likeliest = max(likelihoods)
        # Each digit's distribution costs ten strings as long as the reading, each a table as
        # long as the line: a line the line models read as more than MAX_LINE_DIGITS digits is
        # not read, and no longer string competes.
        if len(_digits(ordered[likelihoods.index(likeliest)])) > MAX_LINE_DIGITS:
            return _empty_reading(prepared, min_confidence, pattern)
        kept = [k for k, text in enumerate(ordered) if len(_digits(text)) <= MAX_LINE_DIGITS]
        ordered, likelihoods = [ordered[k] for k in kept], [likelihoods[k] for k in kept]
        covers = decode_texts(layout, logs, ordered, skip_scores=skips)
        if widen and all(cover is None for cover, ll in zip(covers, likelihoods) if ll == likeliest):
            return None  # (a pattern spells the same digits in several ways: any one will do)
        # The CNN's word on a string is capped: it reads the seam-cut pieces of touching 1s
        # poorly (-10 and less a piece), and counted in full such pieces outvote the line
        # models, which read those runs well, so the string loses a 1.
        path_scores = [cover[1] for cover in covers if cover is not None]
        floor = max(path_scores, default=0.0) - self.segment_cap
        # (combined score, text, its path, the line model's log-probability of its digits)
        scored = [
            (likelihood + self.segment_weight * max(cover[1], floor), text, cover[0], likelihood)
            for text, cover, likelihood in zip(ordered, covers, likelihoods)
            if cover is not None
        ]
        unmet = False
        if pattern is not None:
            best_any = max(scored, key=lambda entry: entry[0], default=None)
            best_fit = max((e for e in scored if _fits(e[1], pattern)), key=lambda entry: entry[0], default=None)
            # As without the line model: fit the pattern only where the evidence allows.
            if best_fit is not None and best_any is not None and best_fit[0] >= best_any[0] - self.pattern_slack:
                scored = [best_fit]
            else:
                unmet = True
        if not scored:
            return _empty_reading(prepared, min_confidence, pattern)
        _, text, steps, likelihood = max(scored, key=lambda entry: entry[0])
        digits = _digits(text)
        path = [i for i in steps if isinstance(i, int)]
        # A character's distribution: the line model's probability of each digit in its place,
        # the rest of the string as read.
        variants = [digits[:j] + str(d) + digits[j + 1 :] for j in range(len(digits)) for d in range(10)]
        table = ensemble_log_likelihoods(log_probs, variants).reshape(len(digits), 10) if digits else np.zeros((0, 10))
        top = table.max(axis=1, keepdims=True)
        # A string too long for the line's frames is impossible under the line model: its
        # digits get probability 0 (and the reading is flagged), not NaN.
        table = np.exp(table - np.where(np.isfinite(top), top, 0.0))
        table /= np.maximum(table.sum(axis=1, keepdims=True), 1e-300)
        lines = self.lines
        assert lines is not None  # a line reading is made only with line models
        characters = []
        for j, i in enumerate(path):
            d = int(digits[j])
            order = [int(k) for k in np.argsort(-table[j]) if k != d]
            # Calibrated as the reading is (an increasing map, so the reading's confidence stays
            # at or under its least sure digit's); the alternatives share what is left.
            sure = lines.calibrate(float(table[j, d]))
            rest = (1.0 - sure) / (1.0 - float(table[j, d])) if table[j, d] < 1.0 else 0.0
            characters.append(
                Character(
                    digit=digits[j],
                    confidence=sure,
                    box=layout.candidates[i].box,
                    alternatives=tuple(Alternative(digit=str(k), confidence=float(table[j, k]) * rest) for k in order[: self.alternatives]),
                )
            )
        confidence = lines.calibrate(math.exp(likelihood)) if digits else 0.0
        return Reading(
            text=text, confidence=confidence, characters=tuple(characters), width=prepared.width, height=prepared.height,
            needs_review=confidence < min_confidence or unmet,
        )

    def read(
        self,
        image: ImageInput,
        *,
        length: int | None = None,
        pattern: str | None = None,
        min_confidence: float | None = None,
    ) -> Reading:
        """Read one image: a path, encoded bytes, a PIL image or a uint8 array (gray, RGB, RGBA).

        ``length``: the number of digits expected; segmentation merges or
        splits to meet it when the evidence allows. Raises
        :class:`~seqdigits.errors.ImageError` subclasses for unusable input.
        ``pattern``: the format, e.g. ``\\d{5}`` or ``\\d{5}-\\d{4}|\\d{5}`` (see
        :func:`segmentation.parse_pattern`); the reading spells it, separators included in
        ``text`` (``characters`` hold the digits), or, when no reading of the image fits it,
        is the best reading of any form with ``needs_review`` set.
        ``min_confidence`` overrides the recognizer's review threshold.
        """
        return self.read_batch([image], length=length, pattern=pattern, min_confidence=min_confidence)[0]

    def read_batch(
        self,
        images: Sequence[ImageInput],
        *,
        length: int | None = None,
        pattern: str | None = None,
        min_confidence: float | None = None,
    ) -> list[Reading]:
        """Read several images; the candidates of all of them go through the CNN in one forward
        pass. The images are decoded and cut on up to 4 threads at once (no more than the
        machine's cores), so a batch of several images uses that many. Raises the first unusable
        image's :class:`~seqdigits.errors.ImageError` (first in order) once the images before it
        are prepared; those after it that have not begun are not (:meth:`read_each` gives each
        image its own outcome instead)."""
        tokens, threshold = self._options(length, pattern, min_confidence)
        prepared = []
        for outcome in self._prepare_each(images, until_refused=True):
            if isinstance(outcome, ImageError):
                raise outcome
            prepared.append(outcome)
        return self._read_prepared(prepared, length, tokens, threshold)

    def read_each(
        self,
        images: Sequence[ImageInput],
        *,
        length: int | None = None,
        pattern: str | None = None,
        min_confidence: float | None = None,
    ) -> list[Reading | ImageError]:
        """Read several images in one pass, as :meth:`read_batch`, but an unusable image does not
        fail the others: its place holds its :class:`~seqdigits.errors.ImageError` (without its
        traceback), the other places their readings, in order."""
        tokens, threshold = self._options(length, pattern, min_confidence)
        outcomes = [_without_tracebacks(o) if isinstance(o, ImageError) else o for o in self._prepare_each(images)]
        readings = iter(self._read_prepared([o for o in outcomes if not isinstance(o, ImageError)], length, tokens, threshold))
        return [o if isinstance(o, ImageError) else next(readings) for o in outcomes]

    def _prepare_each(self, images: Sequence[ImageInput], *, until_refused: bool = False) -> list[_Outcome]:
        """Each image's lines (see :meth:`_prepare`), or the :class:`ImageError` that refused it,
        in order; with ``until_refused``, up to the first refused one, the images after it left
        unprepared but those already begun. Several images are prepared on up to
        _PREPARE_THREADS threads at once: decoding, binarizing and cutting run mostly in OpenCV
        and numpy, which release the GIL, and one image leaves the second core of a 2-core
        machine half idle."""

        def prepare(image: ImageInput) -> _Outcome:
            try:
                return self._prepare(image)
            except ImageError as exc:
                return exc

        def collect(outcomes: Iterator[_Outcome]) -> list[_Outcome]:
            out = []
            for outcome in outcomes:
                out.append(outcome)
                if until_refused and isinstance(outcome, ImageError):
                    break
            return out

        threads = min(len(images), _PREPARE_THREADS, os.cpu_count() or 1)
        if threads < 2:
            return collect(map(prepare, images))  # (lazy: nothing past where it stops is prepared)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="seqdigits-prepare") as pool:
            futures = [pool.submit(prepare, image) for image in images]
            out = collect(future.result() for future in futures)
            # Where it stopped short, the images not yet begun are not prepared (a truncated
            # upload among 32 photos need not wait for the other 31).
            pool.shutdown(cancel_futures=True)
        return out

    def _options(self, length: int | None, pattern: str | None, min_confidence: float | None) -> tuple[tuple[tuple[Token, ...], ...] | None, float]:
        """The parsed ``pattern`` and the review threshold; ValueError for options out of range."""
        threshold = self.min_confidence if min_confidence is None else min_confidence
        return _parsed_options(length, pattern, threshold), threshold

    def _read_prepared(
        self, per_image: list[tuple[tuple[_Prepared, ...], ...]], length: int | None, tokens: tuple[tuple[Token, ...], ...] | None, threshold: float
    ) -> list[Reading]:
        """One reading per prepared image: all their candidates through the CNN in one batch, all
        their lines through each line model in one batch."""
        prepared = [line for ways in per_image for lines in ways for line in lines]
        # A line of more atoms than MAX_LINE_DIGITS digits are cut into, wider than they span, or
        # a few px tall, is no line of digits (noise or a texture measured as tiny writing): read
        # as blank, not through thousands of crops or a line image tens of thousands of px wide.
        prepared = [
            replace(p, layout=replace(p.layout, atoms=(), candidates=()))
            if len(p.layout.atoms) > _MAX_LINE_ATOMS
            or _span(p.layout) > _MAX_LINE_SPAN
            or 0.0 < p.layout.line_height < _MIN_LINE_HEIGHT
            else p
            for p in prepared
        ]
        # With a length or a pattern to meet, a confident digit may still have to be split.
        trust = self.trust_whole if length is None and tokens is None else 1.0
        probs = self._classify([p.layout for p in prepared], trust)
        lines = self._line_log_probs([p.layout for p in prepared])
        found = [self._reading(p, q, lp, length, threshold, tokens, widen=True) for p, q, lp in zip(prepared, probs, lines)]
        # Lines whose likeliest string no path through the candidates spells (wide handwriting,
        # or a broken digit in many pieces): their atoms get wider candidates, and are read
        # again. The atoms are the same, so the line models' reading of them stands.
        narrow = [k for k, reading in enumerate(found) if reading is None]
        if narrow:
            wider = [
                replace(p, layout=widen_candidates(p.layout, max_atoms=_WIDE_ATOMS, max_width_ratio=_WIDE_RATIO))
                for p in (prepared[k] for k in narrow)
            ]
            for k, p, q in zip(narrow, wider, self._classify([p.layout for p in wider], trust)):
                found[k] = self._reading(p, q, lines[k], length, threshold, tokens, widen=True)
            # Still none: the line models read more digits than the atoms make room for (1s
            # overlapping, their ink one stroke). Their atoms are cut between the digits where
            # the line models read them, and read again; the ink, so the line models' reading, is the same.
            unspelled = [(k, p) for k, p in zip(narrow, wider) if found[k] is None]
            cut = [
                replace(
                    p, layout=self._cut_where_read(p.layout, cast("list[npt.NDArray[np.float64]]", lines[k]), length)
                )
                for k, p in unspelled
            ]
            for (k, _), p, q in zip(unspelled, cut, self._classify([p.layout for p in cut], trust)):
                found[k] = self._reading(p, q, lines[k], length, threshold, tokens, widen=False)
        readings = iter(cast("list[Reading]", found))  # every line has its reading now
        out = []
        for ways in per_image:
            read = []
            for way in ways:
                read.append(_turned_back(_joined([next(readings) for _ in way]), way[0].turn, way[0].region))
            # Writing that stands upright is a line turned sideways: of the two ways to turn it
            # back, the likelier reading. Read as it stands, it gives confident nonsense (a turned
            # box reads as one "8"), so that reading serves only when neither turn reads a digit,
            # or when the writing may be a lone digit standing (one long mark, or a 1 in pieces).
            choices = [reading for reading in read[1:] if reading.text]
            if ways[0][0].competes and read[0].text:
                choices.append(read[0])
            out.append(max(choices, key=lambda reading: reading.confidence) if choices else read[0])
        return out

    def _cut_where_read(
        self, layout: LineLayout, log_probs: list[npt.NDArray[np.float64]], length: int | None
    ) -> LineLayout:
        """``layout`` with its atoms cut between the digits of the line models' likeliest string
        (of ``length`` digits, where given), where the likeliest path of their mixture that spells
        it puts them (:func:`~classifier.line_model.ctc_alignment`), with wide candidates."""
        texts = [
            text for text in ensemble_candidates(log_probs, width=self.beam) if length is None or len(text) == length
        ]
        if self.lines is None or not texts:
            return layout
        text = texts[int(np.argmax(ensemble_log_likelihoods(log_probs, texts)))]
        # Aligned on the mixture of the models that read the line at the first one's frames (all
        # models trained alike: the shipped three).
        first = self.lines.readers[0]
        alike = np.stack([lp for lp in log_probs if lp.shape == log_probs[0].shape])
        spans = ctc_alignment(log_mean_exp(alike), text)
        if spans is None or len(spans) < 2:
            return layout
        stride = first.model.stride  # frame f covers columns [f * stride, (f + 1) * stride)
        columns = [
            line_x(layout.atoms, layout.line_height, first.config, (last + 1 + start) * stride / 2.0)
            for (_, last), (start, _) in itertools.pairwise(spans)
        ]
        return cut_atoms(layout, columns, max_atoms=_WIDE_ATOMS, max_width_ratio=_WIDE_RATIO)

    def _line_log_probs(self, layouts: list[LineLayout]) -> list[list[npt.NDArray[np.float64]] | None]:
        """Per layout with writing, each line model's per-frame log-probabilities (all lines
        through all models in one pass); None for a layout without writing, and for all of them
        without a line model."""
        if self.lines is None:
            return [None] * len(layouts)
        normalized: dict[LineConfig, list[npt.NDArray[np.uint8] | None]] = {}
        for reader in self.lines.readers:
            if reader.config not in normalized:  # models trained alike share one normalized line
                normalized[reader.config] = [normalize_line(layout.atoms, layout.line_height, reader.config) for layout in layouts]
        # Whether a layout has a line to read does not depend on how the line is normalized.
        kept = [k for k, image in enumerate(next(iter(normalized.values()))) if image is not None]
        per_model = self.lines.log_probs(
            [[cast("npt.NDArray[np.uint8]", normalized[r.config][k]) for k in kept] for r in self.lines.readers]
        )
        out: list[list[npt.NDArray[np.float64]] | None] = [None] * len(layouts)
        for j, k in enumerate(kept):
            out[k] = [lps[j] for lps in per_model]
        return out

    def _classify(self, layouts: list[LineLayout], trust: float) -> list[npt.NDArray[np.float64]]:
        """Class probabilities (N, 11) for every candidate of every layout, in two batches.

        First the candidates that are one whole connected component each. A component the CNN
        reads as one digit with more than ``trust`` probability, and no wider than a
        digit, is not taken apart: candidates made of some of its pieces are not classified
        and count as "not a digit". The second batch holds all other candidates. On separated
        writing this skips most candidates; on touching digits, whose components are wide or
        doubtful, it skips none.
        """
        spans = [_atoms_by_label(layout) for layout in layouts]
        wholes = [_whole_components(layout, by_label) for layout, by_label in zip(layouts, spans)]
        out = [np.full((len(layout.candidates), len(CLASSES)), np.nan) for layout in layouts]
        self._classify_into(out, layouts, [sorted(whole.values()) for whole in wholes])
        second: list[list[int]] = []
        for layout, probs, whole, by_label in zip(layouts, out, wholes, spans):
            settled = {
                label
                for label, i in whole.items()
                if layout.candidates[i].crop.shape[1] <= layout.line_height
                and float(digit_probabilities(probs[i : i + 1]).max()) > trust
            }
            todo = []
            for i, cand in enumerate(layout.candidates):
                if not np.isnan(probs[i, 0]):
                    continue
                held = Counter(layout.atoms[a].label for a in range(cand.start, cand.end))
                # Part of a settled digit is never a digit of its own; the whole of it joined to
                # a neighbour (a broken stroke) is still tried.
                if any(label in settled and count < len(by_label[label]) for label, count in held.items()):
                    probs[i] = 0.0
                    probs[i, NOT_A_DIGIT] = 1.0
                else:
                    todo.append(i)
            second.append(todo)
        self._classify_into(out, layouts, second)
        return out

    def _classify_into(
        self, out: list[npt.NDArray[np.float64]], layouts: list[LineLayout], picks: list[list[int]]
    ) -> None:
        """Classify the picked candidates of every layout in one batch; rows go into ``out``."""
        found = self.classifier.classify_crops([layout.candidates[i].crop for layout, p in zip(layouts, picks) for i in p])
        offset = 0
        for probs, p in zip(out, picks):
            probs[p] = found[offset : offset + len(p)]
            offset += len(p)


def load_recognizer(
    weights: str | os.PathLike[str] | None = None,
    *,
    line_weights: LineWeights = None,
    line_model: bool = True,
    **options: object,
) -> Recognizer:
    """Load the digit CNN and the line models (default: the weights shipped with the package)
    and return a :class:`Recognizer`.

    ``line_weights``: an ensemble file (``.json``), one line-model checkpoint, or a list of
    checkpoints (see :func:`~classifier.line_model.load_line_ensemble`).
    ``line_model=False`` reads with the digit CNN alone. ``options`` are passed to
    :class:`Recognizer`. Raises :class:`~seqdigits.errors.WeightsError`.
    """
    try:
        classifier = DigitClassifier.load(weights)
        lines = load_line_ensemble(line_weights) if line_model else None
    except CheckpointError as exc:
        raise WeightsError(str(exc)) from exc
    return Recognizer(classifier, line_reader=lines, **options)  # type: ignore[arg-type]


def check_options(*, length: int | None = None, pattern: str | None = None, min_confidence: float | None = None) -> None:
    """Raise ``ValueError``, with the message :meth:`Recognizer.read` would give, for options it
    would refuse: a CLI or a service can refuse them before it loads weights or decodes an image."""
    _parsed_options(length, pattern, min_confidence)


def _parsed_options(length: int | None, pattern: str | None, min_confidence: float | None) -> tuple[tuple[Token, ...], ...] | None:
    """The parsed ``pattern`` (None without one), once every option is checked (see :func:`check_options`)."""
    if length is not None and not 1 <= length <= MAX_LINE_DIGITS:
        raise ValueError(f"length must be a positive number of digits, at most {MAX_LINE_DIGITS}, got {length}")
    if length is not None and pattern is not None:
        raise ValueError("give length or pattern, not both (a pattern states the length)")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be within [0, 1], got {min_confidence}")
    return parse_pattern(pattern) if pattern is not None else None


def _path_score(layout: LineLayout, path: tuple[int, ...], scores: list[float], skips: list[float]) -> float:
    """Score of an unconstrained path: its candidates plus the atoms it leaves out."""
    covered = {a for i in path for a in range(layout.candidates[i].start, layout.candidates[i].end)}
    return sum(scores[i] for i in path) + sum(skips[a] for a in range(len(layout.atoms)) if a not in covered)


_default: Recognizer | None = None
_default_lock = threading.Lock()


def read(
    image: ImageInput, *, length: int | None = None, pattern: str | None = None, min_confidence: float | None = None
) -> Reading:
    """One-off reading with a recognizer that is loaded on first use and then reused."""
    global _default
    with _default_lock:
        if _default is None:
            _default = load_recognizer()
        recognizer = _default
    return recognizer.read(image, length=length, pattern=pattern, min_confidence=min_confidence)


def _enlarged(gray: npt.NDArray[np.uint8], factor: float) -> npt.NDArray[np.uint8]:
    """``gray`` scaled by ``factor`` > 1 (bicubic interpolation)."""
    h, w = gray.shape
    size = (round(w * factor), round(h * factor))
    return cast("npt.NDArray[np.uint8]", cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC))


def _span(layout: LineLayout) -> float:
    """How wide a line's writing is, in its line heights (0.0 for no writing)."""
    if not layout.atoms or layout.line_height <= 0:
        return 0.0
    return (max(a.box.right for a in layout.atoms) - min(a.box.x for a in layout.atoms)) / layout.line_height


def _atoms_by_label(layout: LineLayout) -> dict[int, list[int]]:
    """Component label -> indices of its atoms (the pieces seam cuts made of it)."""
    spans: dict[int, list[int]] = {}
    for a, atom in enumerate(layout.atoms):
        spans.setdefault(atom.label, []).append(a)
    return spans


def _whole_components(layout: LineLayout, spans: dict[int, list[int]]) -> dict[int, int]:
    """Component label -> index of the candidate that is exactly that component's atoms
    (``spans``: :func:`_atoms_by_label` of the layout)."""
    whole = {}
    for i, cand in enumerate(layout.candidates):
        labels = {layout.atoms[a].label for a in range(cand.start, cand.end)}
        if len(labels) == 1:
            (label,) = labels
            if spans[label] == list(range(cand.start, cand.end)):
                whole[label] = i
    return whole


def _joined(lines: list[Reading]) -> Reading:
    """One reading of an image's lines (top to bottom): their texts joined by newlines, the
    characters in that order, the probability that every line is right, and a review flag when
    any line needs one. A line where no digit was read adds nothing."""
    read = [line for line in lines if line.text]
    if len(lines) == 1 or not read:
        return lines[0]
    if len(read) == 1:
        return read[0]
    return Reading(
        text="\n".join(line.text for line in read),
        confidence=math.prod(line.confidence for line in read),
        characters=tuple(c for line in read for c in line.characters),
        width=read[0].width,
        height=read[0].height,
        needs_review=any(line.needs_review for line in read),
    )


def _holds_writing(mask: npt.NDArray[np.bool_], *, across: bool = True) -> bool:
    """Whether a bool (H, W) ink mask holds a mark of more than ``MAX_SPECK`` px: no digit is
    drawn in fewer (see :func:`segmentation.writing_region`). Without ``across``, a line across
    the page does not count (see ``_LINE_ACROSS``)."""
    if not across:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
        width = mask.shape[1]
        marks = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] > MAX_SPECK)
        marks = marks[marks > 0]  # (not the background)
        wide = (stats[marks, cv2.CC_STAT_WIDTH] == width) & (stats[marks, cv2.CC_STAT_HEIGHT] * _LINE_ACROSS <= width)
        if not wide.all():
            return True
        tops, heights = stats[marks, cv2.CC_STAT_TOP], stats[marks, cv2.CC_STAT_HEIGHT]
        return not all(_flat(labels[top : top + h] == label) for label, top, h in zip(marks, tops, heights))
    # (Labels counted over the ink alone: cv2's own stats take several times as long on a page.)
    labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)[1]
    return bool((np.bincount(labels[mask]) > MAX_SPECK).any())


def _stands_on(mask: npt.NDArray[np.bool_], rows: npt.NDArray[np.bool_]) -> bool:
    """Whether a mark of a bool (H, W) mask with ink in ``rows`` (bool (H,): a line across the
    page) is no line's even band (see :func:`_flat`): writing stands on the line, one mark with
    it."""
    if not rows.any():
        return False
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    for label in np.unique(labels[rows][mask[rows]]).tolist():
        x, y, w, h = (int(v) for v in stats[label, :4])
        if not _flat(labels[y : y + h, x : x + w] == label):
            return True
    return False


def _flat(own: npt.NDArray[np.bool_]) -> bool:
    """Whether a mark (bool (h, w), its box, inked in every column) is a line's even band: no
    column holds ink more than twice as tall as its median column's and 2 px, nor more than twice
    as much ink and 2 px (see _LINE_ACROSS). Two rules joined by a digit that touches both reach
    from one to the other in every column, as evenly; the digit's strokes add ink."""
    rows = np.arange(own.shape[0])[:, None]
    extent = np.where(own, rows, -1).max(axis=0) - np.where(own, rows, own.shape[0]).min(axis=0) + 1
    ink = np.count_nonzero(own, axis=0)
    return int(extent.max()) <= 2 * float(np.median(extent)) + 2 and int(ink.max()) <= 2 * float(np.median(ink)) + 2


def _marks(mask: npt.NDArray[np.bool_], *, edge_to_edge: bool = True) -> int:
    """How many marks a bool (H, W) ink mask holds: components with a tenth of the largest one's
    ink; without ``edge_to_edge``, not those among them that run from edge to edge (top to
    bottom or side to side): folds or lines down a page, which a copy as small as a glance's may
    show thin enough to pass for strokes (see :func:`segmentation.binarize.binarize`)."""
    stats = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)[2][1:]
    if not len(stats):
        return 0
    marks = stats[stats[:, cv2.CC_STAT_AREA] >= 0.1 * stats[:, cv2.CC_STAT_AREA].max()]
    if not edge_to_edge:
        height, width = mask.shape
        marks = marks[(marks[:, cv2.CC_STAT_HEIGHT] < height) & (marks[:, cv2.CC_STAT_WIDTH] < width)]
    return len(marks)


def _stands_upright(mask: npt.NDArray[np.bool_]) -> tuple[bool, bool]:
    """Whether the writing in a bool (H, W) ink mask stands upright (see _COLUMN_ELONGATION), and
    whether it may then be a lone digit standing, to be read as it stands too: one mark at least
    _LONE_MARK_ELONGATION long (a turned line whose digits all touch looks the same), or marks
    that are the pieces of one stroke (:func:`segmentation.one_stroke`; a lone 1 the pen
    skipped across)."""
    angle, elongation = ink_axis(mask)
    if elongation < _COLUMN_ELONGATION or abs(angle) < 90.0 - _COLUMN_TILT:
        return False, False
    if _marks(mask) < 2:
        return (True, True) if elongation >= _LONE_MARK_ELONGATION else (False, False)
    return True, one_stroke(mask) is not None


def _without_tracebacks(exc: ImageError) -> ImageError:
    """``exc`` with no traceback on it or on the exceptions it was raised from: kept in a list,
    they would hold the failed decode's frames, and the image's bytes, as long as the list."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.__traceback__ = None
        link = link.__cause__ or link.__context__
    return exc


def _turned_back(reading: Reading, turn: int, region: tuple[int, int, int, int] | None = None) -> Reading:
    """``reading`` of the image turned ``turn`` (0, 1 or 3) quarters counter-clockwise
    (``np.rot90``), or of its ``region`` (left, top, width, height) so turned, with its boxes put
    back in the pixels of the image as given (``reading.width`` x ``height``), and kept within
    it: a box mapped back from a shrunk working copy can overshoot its edge by a pixel (that
    copy's size over the scale is not quite the image's)."""
    left, top, w, h = region or (0, 0, reading.width, reading.height)

    def back(b: Box) -> Box:
        if turn == 1:  # turned pixel (row i, column j) was (j, w - 1 - i)
            b = Box(w - b.y - b.height, b.x, b.height, b.width)
        elif turn == 3:  # (i, j) was (h - 1 - j, i)
            b = Box(b.y, h - b.x - b.width, b.height, b.width)
        x, y = min(max(b.x, 0), w - 1), min(max(b.y, 0), h - 1)
        return Box(left + x, top + y, max(1, min(b.right, w) - x), max(1, min(b.bottom, h) - y))

    boxes = [back(c.box) for c in reading.characters]
    if all(box == c.box for box, c in zip(boxes, reading.characters)):
        return reading
    return replace(reading, characters=tuple(replace(c, box=box) for box, c in zip(boxes, reading.characters)))


def _empty_reading(prepared: _Prepared, min_confidence: float, pattern: object | None) -> Reading:
    """No digits: confidence 0.0, and worth a look unless the caller reviews nothing (or a pattern went unmet)."""
    return Reading(
        text="", confidence=0.0, characters=(), width=prepared.width, height=prepared.height,
        needs_review=min_confidence > 0.0 or pattern is not None,
    )


def _digits(text: str) -> str:
    """The digits of a spelled text (separators dropped)."""
    return "".join(ch for ch in text if ch.isdigit())


def _pattern_regex(tokens: tuple[Token, ...]) -> str:
    return "".join(f"[0-9]{{{t.lo},{t.hi}}}" if t.kind == "digit" else re.escape(t.char) for t in tokens)


def _fits(text: str, pattern: tuple[tuple[Token, ...], ...]) -> bool:
    """Whether ``text`` (digits and separators) spells one of the pattern's alternatives."""
    return any(re.fullmatch(_pattern_regex(tokens), text) for tokens in pattern)


def _spellings(digits: str, pattern: tuple[tuple[Token, ...], ...], most: int = 16) -> set[str]:
    """``digits`` with separators put in, each way an alternative of ``pattern`` allows (at most
    ``most`` ways per alternative)."""
    out = set()
    for tokens in pattern:
        groups = [t for t in tokens if t.kind == "digit"]
        sizes = itertools.product(*(range(t.lo, min(t.hi, len(digits)) + 1) for t in groups))
        for split in itertools.islice((s for s in sizes if sum(s) == len(digits)), most):
            parts, k, g = [], 0, 0
            for t in tokens:
                if t.kind == "digit":
                    parts.append(digits[k : k + split[g]])
                    k, g = k + split[g], g + 1
                else:
                    parts.append(t.char)
            out.add("".join(parts))
    return out
