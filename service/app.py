"""The Litestar application: ``create_app()`` builds it, ``serve()`` runs it on uvicorn.

The recognizer loads once per process in the lifespan and lives in
``app.state.recognizer``; requests only read it. Recognition is CPU work, so
it runs in a worker thread, bounded by a capacity limiter so a burst of
uploads queues instead of exhausting memory.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import anyio
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.exceptions import HTTPException
from litestar.openapi.config import OpenAPIConfig
from litestar.params import QueryParameter
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send

import seqdigits
from classifier.line_model import LineWeights
from seqdigits.errors import (
    CorruptImageError,
    ImageNotFoundError,
    ImageTooLargeError,
    SeqdigitsError,
    UnsupportedImageError,
)
from seqdigits.recognizer import MAX_LINE_DIGITS, Recognizer, check_options, load_recognizer
from service.schemas import BatchItem, BatchResponse, ErrorResponse, HealthResponse, ReadResponse, to_response

__all__ = ["create_app", "serve"]

logger = logging.getLogger("seqdigits.service")

#: Request-body limit (25 MiB; it was 10): room for a high-resolution phone JPEG, or a batch of
#: ordinary ones. The 50 MP pixel limit still applies to each image.
DEFAULT_MAX_UPLOAD = 25 * 1024 * 1024
MAX_BATCH = 32
#: Encoded-image content types accepted as a raw request body.
IMAGE_TYPES = ("image/", "application/octet-stream")


def _status_for(exc: SeqdigitsError) -> int:
    if isinstance(exc, ImageTooLargeError):
        return HTTP_413_REQUEST_ENTITY_TOO_LARGE
    if isinstance(exc, UnsupportedImageError):
        return HTTP_415_UNSUPPORTED_MEDIA_TYPE
    if isinstance(exc, (CorruptImageError, ImageNotFoundError)):
        return HTTP_400_BAD_REQUEST
    return HTTP_400_BAD_REQUEST if isinstance(exc, ValueError) else HTTP_500_INTERNAL_SERVER_ERROR


def _error(status: int, kind: str, detail: str) -> ErrorResponse:
    return ErrorResponse(status_code=status, error=kind, detail=detail)


def _domain_error_handler(_: Request, exc: SeqdigitsError) -> Response[ErrorResponse]:
    status = _status_for(exc)
    return Response(_error(status, type(exc).__name__, str(exc)), status_code=status)


def _http_error_handler(_: Request, exc: HTTPException) -> Response[ErrorResponse]:
    kind = {413: "RequestTooLarge", 415: "UnsupportedMediaType", 404: "NotFound", 405: "MethodNotAllowed"}.get(
        exc.status_code, "BadRequest" if exc.status_code < 500 else "ServerError"
    )
    detail = exc.detail
    if exc.status_code == 400 and getattr(exc, "extra", None):
        detail = f"{detail}: {exc.extra}"
    return Response(_error(exc.status_code, kind, str(detail)), status_code=exc.status_code)


def _unexpected_error_handler(_: Request, exc: Exception) -> Response[ErrorResponse]:
    logger.exception("unexpected error", exc_info=exc)
    return Response(
        _error(HTTP_500_INTERNAL_SERVER_ERROR, "InternalError", "the server failed to process the request"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


class _BadRequest(HTTPException):
    status_code = HTTP_400_BAD_REQUEST


def _timing_middleware(app: ASGIApp) -> ASGIApp:
    """Log one line per request: method, path, status, milliseconds."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            elapsed = (time.perf_counter() - start) * 1000.0
            logger.info("%s %s %d %.1f ms", scope.get("method"), scope.get("path"), status, elapsed)

    return middleware


async def _image_parts(request: Request, field: str) -> list[tuple[str, bytes]]:
    """(filename, bytes) of every uploaded image: multipart ``field`` parts, or the raw body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        parts = []
        for value in form.getall(field) if field in form else []:
            if isinstance(value, UploadFile):
                parts.append((value.filename or field, await value.read()))
            else:
                raise _BadRequest(detail=f"form field '{field}' must be a file upload, not text")
        if not parts:
            raise _BadRequest(detail=f"multipart body has no file field '{field}'")
        return parts
    if content_type.startswith(IMAGE_TYPES):
        return [("body", await request.body())]
    raise HTTPException(
        status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        detail=(
            f"unsupported content type '{content_type or 'none'}': send multipart/form-data with a file field "
            f"'{field}', or the image itself with an image/* content type"
        ),
    )


#: The optional ``length`` query parameter, validated (and documented) by Litestar.
Length = Annotated[int | None, QueryParameter(ge=1, le=MAX_LINE_DIGITS, description="expected number of digits")]
#: The optional ``pattern`` query parameter: the expected format.
Pattern = Annotated[
    str | None,
    QueryParameter(max_length=200, description="expected format, e.g. \\d{5} or \\d{5}-\\d{4}|\\d{5}"),
]
#: The optional ``min_confidence`` query parameter: readings below it come back with ``needs_review``.
MinConfidence = Annotated[
    float | None, QueryParameter(ge=0.0, le=1.0, description="flag readings less likely than this to be right")
]


def _check_options(length: int | None, pattern: str | None, min_confidence: float | None) -> None:
    """Refuse, as a 400 and in the library's words, options the recognizer would refuse, before the body is read."""
    try:
        check_options(length=length, pattern=pattern, min_confidence=min_confidence)
    except ValueError as exc:
        raise _BadRequest(detail=str(exc)) from exc


async def _recognize(
    request: Request, data: bytes, length: int | None, pattern: str | None, min_confidence: float | None
) -> ReadResponse:
    recognizer: Recognizer = request.app.state.recognizer
    limiter: anyio.CapacityLimiter = request.app.state.limiter
    start = time.perf_counter()
    reading = await anyio.to_thread.run_sync(
        lambda: recognizer.read(data, length=length, pattern=pattern, min_confidence=min_confidence), limiter=limiter
    )
    return to_response(reading, (time.perf_counter() - start) * 1000.0)


@post(
    "/v1/read",
    summary="Read the digits in one image",
    description=(
        "Send the image as a multipart file field `image`, or as the raw request body with an image content "
        "type. Returns the digits, a confidence for each and for the whole string, and each digit's box."
    ),
    status_code=200,
    responses={},
)
async def read_one(
    request: Request, length: Length = None, pattern: Pattern = None, min_confidence: MinConfidence = None
) -> ReadResponse:
    _check_options(length, pattern, min_confidence)
    parts = await _image_parts(request, "image")
    if len(parts) > 1:
        raise _BadRequest(detail="send one image to /v1/read; use /v1/read/batch for several")
    return await _recognize(request, parts[0][1], length, pattern, min_confidence)


@post(
    "/v1/read/batch",
    summary="Read the digits in several images",
    description=(
        f"Multipart with one or more file fields `images` (at most {MAX_BATCH}). Each item carries its reading or its own "
        "error. The images are read in one pass, each reading's `elapsed_ms` being an equal share of its time; an "
        "unusable image does not stop the others."
    ),
    status_code=200,
)
async def read_batch(
    request: Request, length: Length = None, pattern: Pattern = None, min_confidence: MinConfidence = None
) -> BatchResponse:
    start = time.perf_counter()
    _check_options(length, pattern, min_confidence)
    parts = await _image_parts(request, "images")
    if len(parts) > MAX_BATCH:
        raise _BadRequest(detail=f"{len(parts)} images in one batch; at most {MAX_BATCH}")
    recognizer: Recognizer = request.app.state.recognizer
    limiter: anyio.CapacityLimiter = request.app.state.limiter
    read_start = time.perf_counter()
    # All the images in one pass: their candidates through the CNN in one batch, their lines
    # through the line models in another; an unusable image gets its own error, the rest are read.
    outcomes = await anyio.to_thread.run_sync(
        lambda: recognizer.read_each([data for _, data in parts], length=length, pattern=pattern, min_confidence=min_confidence),
        limiter=limiter,
    )
    read = sum(not isinstance(outcome, SeqdigitsError) for outcome in outcomes)
    share = (time.perf_counter() - read_start) * 1000.0 / max(1, read)
    items = [
        BatchItem(filename=name, error=_error(_status_for(outcome), type(outcome).__name__, str(outcome)))
        if isinstance(outcome, SeqdigitsError)
        else BatchItem(filename=name, reading=to_response(outcome, share))
        for (name, _), outcome in zip(parts, outcomes)
    ]
    return BatchResponse(items=items, elapsed_ms=round((time.perf_counter() - start) * 1000.0, 3))


@get("/health", summary="Liveness and readiness", sync_to_thread=False)
def health(state: State) -> HealthResponse:
    loaded = getattr(state, "recognizer", None) is not None
    return HealthResponse(status="ok" if loaded else "starting", model_loaded=loaded, version=seqdigits.__version__)


_PAGE: bytes | None = None


@get("/", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def page() -> Response[bytes]:
    global _PAGE
    if _PAGE is None:
        _PAGE = (resources.files("service") / "static" / "index.html").read_bytes()
    return Response(_PAGE, media_type=MediaType.HTML, headers={"Cache-Control": "no-cache"})


def create_app(
    recognizer: Recognizer | None = None,
    *,
    weights: str | os.PathLike[str] | None = None,
    line_weights: LineWeights = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
    max_pixels: int | None = None,
    concurrency: int | None = None,
) -> Litestar:
    """Build the app.

    ``recognizer``: use this one (tests); otherwise the lifespan loads
    ``weights`` and ``line_weights`` (default: packaged). ``max_upload_bytes``: request bodies
    over it get 413. ``max_pixels``: decoded-image limit. ``concurrency``:
    recognitions running at once per process (default: CPU count).
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if recognizer is not None:
            app.state.recognizer = recognizer
        else:
            options: dict[str, Any] = {"max_pixels": max_pixels} if max_pixels else {}
            app.state.recognizer = await anyio.to_thread.run_sync(lambda: load_recognizer(weights, line_weights=line_weights, **options))
        app.state.limiter = anyio.CapacityLimiter(concurrency or os.cpu_count() or 1)
        try:
            yield
        finally:
            app.state.recognizer = None

    prometheus = PrometheusConfig(app_name="seqdigits", prefix="seqdigits", group_path=True)
    return Litestar(
        route_handlers=[read_one, read_batch, health, page, PrometheusController],
        lifespan=[lifespan],
        middleware=[prometheus.middleware, _timing_middleware],
        exception_handlers={
            SeqdigitsError: _domain_error_handler,
            HTTPException: _http_error_handler,
            Exception: _unexpected_error_handler,
        },
        request_max_body_size=max_upload_bytes,
        openapi_config=OpenAPIConfig(title="seqdigits", version=seqdigits.__version__, path="/schema"),
        state=State({"recognizer": None}),
    )


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    weights: str | os.PathLike[str] | None = None,
    line_weights: LineWeights = None,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD / (1024 * 1024),
) -> None:
    """Run the service on uvicorn. Each worker process loads its own copy of the models (8.0 MB of weights: the digit CNN and three line models)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Workers are separate processes: they rebuild the app through the factory from the environment.
    os.environ["SEQDIGITS_MAX_UPLOAD_BYTES"] = str(int(max_upload_mb * 1024 * 1024))
    if weights is not None:
        os.environ["SEQDIGITS_WEIGHTS"] = str(Path(weights).resolve())
    if line_weights is not None:
        paths = [line_weights] if isinstance(line_weights, (str, os.PathLike)) else list(line_weights)
        os.environ["SEQDIGITS_LINE_WEIGHTS"] = os.pathsep.join(str(Path(p).resolve()) for p in paths)
    uvicorn.run(
        "service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )


def app_from_env() -> Litestar:
    """The app configured from ``SEQDIGITS_WEIGHTS``, ``SEQDIGITS_LINE_WEIGHTS`` (one path, a
    checkpoint or an ensemble file, or several checkpoints joined by ``os.pathsep``) and ``SEQDIGITS_MAX_UPLOAD_BYTES`` (uvicorn factory)."""
    line_weights = os.environ.get("SEQDIGITS_LINE_WEIGHTS")
    return create_app(
        weights=os.environ.get("SEQDIGITS_WEIGHTS") or None,
        line_weights=line_weights.split(os.pathsep) if line_weights else None,
        max_upload_bytes=int(os.environ.get("SEQDIGITS_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD)),
    )
