"""Plain array functions that find the digits of one handwritten line.

Images are uint8 (H, W) arrays; options are keyword-only; nothing here reads
files or knows about the classifier. Recognition-guided choices are made by
passing classifier scores to :func:`decode`.
"""

import numpy as np
import numpy.typing as npt

from segmentation.binarize import (
    MAX_SPECK,
    binarize,
    faint_grid,
    ink_is_dark,
    is_blank,
    sauvola_threshold,
    shrunk,
    writing_region,
)
from segmentation.decode import (
    MAX_DIGITS,
    Token,
    decode,
    decode_pattern,
    decode_texts,
    geometric_scores,
    geometric_skip_scores,
    hyphen_scores,
    parse_pattern,
)
from segmentation.layout import (
    LINE_ASPECT,
    cut_atoms,
    estimate_line_height,
    estimate_skew,
    estimate_slant,
    estimate_stroke_width,
    ink_axis,
    one_stroke,
    propose,
    propose_lines,
    remove_specks,
    widen_candidates,
)
from segmentation.types import Atom, Box, Candidate, LineLayout

__all__ = [
    "LINE_ASPECT",
    "MAX_DIGITS",
    "MAX_SPECK",
    "Atom",
    "Box",
    "Candidate",
    "LineLayout",
    "Token",
    "binarize",
    "cut_atoms",
    "decode",
    "decode_pattern",
    "decode_texts",
    "estimate_line_height",
    "estimate_skew",
    "estimate_slant",
    "estimate_stroke_width",
    "faint_grid",
    "geometric_scores",
    "geometric_skip_scores",
    "hyphen_scores",
    "ink_axis",
    "ink_is_dark",
    "is_blank",
    "one_stroke",
    "parse_pattern",
    "propose",
    "propose_lines",
    "remove_specks",
    "sauvola_threshold",
    "segment_digits",
    "shrunk",
    "widen_candidates",
    "writing_region",
]


def segment_digits(mask: npt.NDArray[np.bool_], *, deskew: bool = True) -> list[Box]:
    """Boxes (mask pixels, left to right) of the digits in a bool (H, W) ink mask, from shape alone."""
    layout = propose(mask, deskew=deskew)
    return [layout.candidates[i].box for i in decode(layout, geometric_scores(layout))]
