"""Typed response bodies; msgspec structs, so ``/schema`` documents every field."""

from __future__ import annotations

import msgspec

from seqdigits.reading import Reading

__all__ = [
    "AlternativeOut",
    "BatchItem",
    "BatchResponse",
    "BoxOut",
    "CharacterOut",
    "ErrorResponse",
    "HealthResponse",
    "ReadResponse",
    "to_response",
]


class BoxOut(msgspec.Struct, frozen=True):
    """Where a digit stands, in pixels of the uploaded image (after EXIF rotation)."""

    x: int
    y: int
    width: int
    height: int


class AlternativeOut(msgspec.Struct, frozen=True):
    digit: str
    confidence: float


class CharacterOut(msgspec.Struct, frozen=True):
    digit: str
    confidence: float
    box: BoxOut
    alternatives: list[AlternativeOut]


class ReadResponse(msgspec.Struct, frozen=True):
    """One reading. ``confidence`` is the probability that the whole ``text`` is right; lines
    of writing one under another come top to bottom, parted in ``text`` by a newline."""

    text: str
    confidence: float
    characters: list[CharacterOut]
    width: int
    height: int
    needs_review: bool
    elapsed_ms: float


class ErrorResponse(msgspec.Struct, frozen=True):
    """Every 4xx/5xx body: the HTTP status, the error's kind, and what was expected."""

    status_code: int
    error: str
    detail: str


class BatchItem(msgspec.Struct, frozen=True):
    """One image of a batch: its reading, or the error that image alone caused."""

    filename: str
    reading: ReadResponse | None = None
    error: ErrorResponse | None = None


class BatchResponse(msgspec.Struct, frozen=True):
    items: list[BatchItem]
    elapsed_ms: float


class HealthResponse(msgspec.Struct, frozen=True):
    status: str
    model_loaded: bool
    version: str


def to_response(reading: Reading, elapsed_ms: float) -> ReadResponse:
    return ReadResponse(
        text=reading.text,
        confidence=reading.confidence,
        characters=[
            CharacterOut(
                digit=c.digit,
                confidence=c.confidence,
                box=BoxOut(c.box.x, c.box.y, c.box.width, c.box.height),
                alternatives=[AlternativeOut(a.digit, a.confidence) for a in c.alternatives],
            )
            for c in reading.characters
        ],
        width=reading.width,
        height=reading.height,
        needs_review=reading.needs_review,
        elapsed_ms=round(elapsed_ms, 3),
    )
