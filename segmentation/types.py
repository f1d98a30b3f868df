"""Typed results of the segmentation stages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Atom", "Box", "Candidate", "LineLayout"]


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in pixels: left column ``x``, top row ``y``, ``width``, ``height``."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def iou(self, other: Box) -> float:
        """Intersection over union with ``other`` (0.0 when disjoint)."""
        ix = max(0, min(self.right, other.right) - max(self.x, other.x))
        iy = max(0, min(self.bottom, other.bottom) - max(self.y, other.y))
        inter = ix * iy
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0

    def overlaps(self, other: Box) -> bool:
        return self.iou(other) > 0.0


@dataclass(frozen=True, slots=True, eq=False)
class Atom:
    """The smallest unit of a line: all of one connected component, or the part of it between two cuts.

    ``box`` is in the deskewed working frame; ``mask`` is bool (box.height,
    box.width), True on this atom's own ink. Cuts follow minimum-ink seams, so
    an atom need not be a rectangle of columns.
    """

    label: int
    box: Box
    mask: npt.NDArray[np.bool_]
    cut_left: bool
    """True when the atom's left edge is a cut through a component, not the component's own edge."""
    cut_right: bool


@dataclass(frozen=True, slots=True)
class Candidate:
    """A run of consecutive atoms ``[start, end)`` that may be one digit.

    ``crop``: uint8 (h, w) binary, ink 255, holding only this run's pixels (in
    the deskewed frame, so the digit stands upright). ``box``: where it stands in
    the input image. ``prior``: geometric log-plausibility (0 best, negative worse).
    """

    start: int
    end: int
    crop: npt.NDArray[np.uint8]
    box: Box
    prior: float


@dataclass(frozen=True, slots=True)
class LineLayout:
    """Everything the decoder needs about one line of writing."""

    atoms: tuple[Atom, ...]
    candidates: tuple[Candidate, ...]
    line_height: float
    """Typical digit height in working-frame pixels."""
    angle: float
    """Skew of the line in degrees that was corrected (counter-clockwise positive)."""
    scale: float
    """Working frame pixels per input pixel."""
    slant: float = 0.0
    """Shear (dx per dy) applied to the writing after deskewing; 0.0 when it was left as written."""
    inverse: tuple[float, ...] | None = None
    """The affine map (2x3, row by row) from the working frame back to the mask the layout was
    proposed from: what candidates' boxes are mapped through (see
    :func:`~segmentation.layout.widen_candidates`); None for a layout built by hand."""
    source_shape: tuple[int, int] = (0, 0)
    """(H, W) of the mask the layout was proposed from; (0, 0) for a layout built by hand."""

    @property
    def empty(self) -> bool:
        return not self.atoms
