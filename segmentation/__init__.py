"""Plain array functions that find the digits of one handwritten line.

Images are uint8 (H, W) arrays; options are keyword-only; nothing here reads
files or knows about the classifier. Recognition-guided choices are made by
passing classifier scores to :func:`decode`.
"""

from segmentation.binarize import binarize, ink_is_dark, is_blank
from segmentation.decode import decode, geometric_scores, geometric_skip_scores
from segmentation.layout import estimate_skew, propose, remove_specks
from segmentation.types import Atom, Box, Candidate, LineLayout

__all__ = [
    "Atom",
    "Box",
    "Candidate",
    "LineLayout",
    "binarize",
    "decode",
    "estimate_skew",
    "geometric_scores",
    "geometric_skip_scores",
    "ink_is_dark",
    "is_blank",
    "propose",
    "remove_specks",
    "segment_digits",
]


def segment_digits(mask, *, deskew: bool = True) -> list[Box]:  # type: ignore[no-untyped-def]
    """Boxes (input pixels, left to right) of the digits in an ink mask, from shape alone."""
    layout = propose(mask, deskew=deskew)
    return [layout.candidates[i].box for i in decode(layout, geometric_scores(layout))]
