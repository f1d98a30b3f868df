"""The records a reading is made of: frozen, typed, plain Python values, JSON-ready."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from segmentation.types import Box

__all__ = ["Alternative", "Box", "Character", "Reading"]


@dataclass(frozen=True, slots=True)
class Alternative:
    """Another digit the classifier considered for a character, with its probability."""

    digit: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Character:
    """One digit of a reading.

    ``confidence``: calibrated probability (0-1) that ``digit`` is right (with the line model:
    given the other digits as read); ``box``: where it stands, in pixels of the input image
    (after EXIF rotation); ``alternatives``: the next most likely digits, most likely first.
    """

    digit: str
    confidence: float
    box: Box
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True, slots=True)
class Reading:
    """The digits of one image, left to right; an image with several lines of writing, one
    under another, gives them top to bottom, ``text`` parting the lines with a newline
    (``characters`` hold the digits alone, in the same order).

    ``confidence``: probability that the whole ``text`` is right: the line
    model's calibrated probability of these digits (without the line model, the
    product of the characters' confidences; for several lines, the product of
    theirs); 0.0 for an empty reading, which
    always deserves a human look. ``width``/``height``: the input's size in pixels.
    """

    text: str
    confidence: float
    characters: tuple[Character, ...]
    width: int
    height: int
    needs_review: bool = False
    """True when ``confidence`` is under the recognizer's ``min_confidence``: route it to a person."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts and lists, ready for ``json.dumps``."""
        data = asdict(self)
        data["characters"] = [
            {**c, "alternatives": list(c["alternatives"])} for c in data["characters"]
        ]
        return data
