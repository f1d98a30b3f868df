"""seqdigits: read strings of handwritten digits from photos.

>>> import seqdigits
>>> recognizer = seqdigits.load_recognizer()
>>> reading = recognizer.read("postcode.jpg")       # doctest: +SKIP
>>> reading.text, reading.confidence                 # doctest: +SKIP
('75011', 0.97)
"""

from seqdigits.errors import (
    CorruptImageError,
    ImageError,
    ImageNotFoundError,
    ImageTooLargeError,
    SeqdigitsError,
    UnsupportedImageError,
    WeightsError,
)
from seqdigits.image import load_image
from seqdigits.reading import Alternative, Box, Character, Reading
from seqdigits.recognizer import Recognizer, check_options, load_recognizer, read

__version__ = "0.1.0"

__all__ = [
    "Alternative",
    "Box",
    "Character",
    "CorruptImageError",
    "ImageError",
    "ImageNotFoundError",
    "ImageTooLargeError",
    "Reading",
    "Recognizer",
    "SeqdigitsError",
    "UnsupportedImageError",
    "WeightsError",
    "__version__",
    "check_options",
    "load_image",
    "load_recognizer",
    "read",
]
