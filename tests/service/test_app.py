from __future__ import annotations

import asyncio

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient, TestClient

from datasets.synth import LineGenerator, SynthConfig
from service.app import create_app
from tests.conftest import png_bytes
from tests.seqdigits.test_api import _bomb_png


@pytest.fixture(scope="module")
def photos(mnist_test):  # type: ignore[no-untyped-def]
    gen = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated", height=(48, 56)), seed=21)
    return {text: png_bytes(gen.line(text).image) for text in ("94110", "10115", "3", "8675309")}


@pytest.fixture()
def client(recognizer):  # type: ignore[no-untyped-def]
    with TestClient(app=create_app(recognizer, max_upload_bytes=2_000_000)) as c:
        yield c


def test_multipart_upload(client, photos) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/read", files={"image": ("zip.png", photos["94110"], "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] == "94110"
    assert len(body["characters"]) == 5
    first = body["characters"][0]
    assert set(first) == {"digit", "confidence", "box", "alternatives"}
    assert set(first["box"]) == {"x", "y", "width", "height"}
    assert body["width"] > 0 and body["height"] > 0 and body["elapsed_ms"] > 0


def test_a_phone_photo_and_two_lines(client, mnist_test) -> None:  # type: ignore[no-untyped-def]
    from tests.seqdigits.test_api import _phone_jpeg, _stacked

    sheet, _ = _stacked(mnist_test, "5551234", "12")
    r = client.post("/v1/read", files={"image": ("two.png", png_bytes(sheet), "image/png")})
    assert r.status_code == 200 and r.json()["text"] == "5551234\n12"
    data, _ = _phone_jpeg(sheet, factor=6, page=(4032, 3024))  # 12 MP, under the 2 MB test limit as a JPEG
    r = client.post("/v1/read", content=data, headers={"content-type": "image/jpeg"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] == "5551234\n12" and (body["width"], body["height"]) == (4032, 3024)


def test_an_iphone_heic_upload(client, mnist_test) -> None:  # type: ignore[no-untyped-def]
    from tests.seqdigits.test_api import _heic

    image = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated", height=(48, 56)), seed=21).line("94110").image
    r = client.post("/v1/read", files={"image": ("IMG_0001.HEIC", _heic(image, orientation=6), "image/heic")})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "94110" and (r.json()["width"], r.json()["height"]) == (image.shape[1], image.shape[0])
    r = client.post("/v1/read", content=_heic(image)[:300], headers={"content-type": "image/heic"})
    assert r.status_code == 400 and r.json()["error"] == "CorruptImageError"


def test_raw_body_and_length(client, photos) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/read?length=5", content=photos["10115"], headers={"content-type": "image/png"})
    assert r.status_code == 200 and r.json()["text"] == "10115"


def test_batch(client, photos) -> None:  # type: ignore[no-untyped-def]
    files = [("images", (f"{t}.png", photos[t], "image/png")) for t in ("3", "8675309")]
    files.append(("images", ("notes.txt", b"hello", "text/plain")))
    r = client.post("/v1/read/batch", files=files)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["reading"]["text"] if i["reading"] else None for i in items] == ["3", "8675309", None]
    assert items[2]["error"]["status_code"] == 415 and items[2]["filename"] == "notes.txt"


def _passes(recognizer, monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """The sizes of the recognizer's ``read_each`` passes from now on; reading an image alone
    (``read``) or through ``read_batch`` fails the test."""
    calls: list[int] = []
    read_each = recognizer.read_each

    def spy(images, **options):  # type: ignore[no-untyped-def]
        calls.append(len(images))
        return read_each(images, **options)

    monkeypatch.setattr(recognizer, "read_each", spy)
    monkeypatch.setattr(recognizer, "read", lambda *a, **k: pytest.fail("read one at a time"))
    monkeypatch.setattr(recognizer, "read_batch", lambda *a, **k: pytest.fail("read_batch"))
    return calls


def test_a_clean_batch_is_read_in_one_pass(recognizer, photos, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    texts = ("94110", "3", "8675309")
    single = {}
    with TestClient(app=create_app(recognizer)) as c:
        for t in texts:
            single[t] = c.post("/v1/read", content=photos[t], headers={"content-type": "image/png"}).json()
        calls = _passes(recognizer, monkeypatch)
        r = c.post("/v1/read/batch", files=[("images", (f"{t}.png", photos[t], "image/png")) for t in texts])
    assert r.status_code == 200 and calls == [3]
    for t, item in zip(texts, r.json()["items"]):
        reading = item["reading"]
        assert reading["text"] == t and item["filename"] == f"{t}.png"
        assert reading["confidence"] == pytest.approx(single[t]["confidence"], abs=1e-6)
        assert [c["box"] for c in reading["characters"]] == [c["box"] for c in single[t]["characters"]]
        assert reading["elapsed_ms"] > 0


def test_a_batch_with_unusable_images_reads_the_rest_in_the_same_pass(recognizer, photos, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    texts = ("94110", "3")
    with TestClient(app=create_app(recognizer)) as c:
        single = {t: c.post("/v1/read", content=photos[t], headers={"content-type": "image/png"}).json() for t in texts}
        calls = _passes(recognizer, monkeypatch)
        data = photos["94110"]
        files = [
            ("images", ("cut.png", data[: len(data) // 3], "image/png")),
            ("images", ("94110.png", data, "image/png")),
            ("images", ("notes.txt", b"hello", "text/plain")),
            ("images", ("3.png", photos["3"], "image/png")),
        ]
        r = c.post("/v1/read/batch", files=files)
    assert r.status_code == 200 and calls == [4]
    items = r.json()["items"]
    assert [i["filename"] for i in items] == ["cut.png", "94110.png", "notes.txt", "3.png"]
    assert [(i["error"]["status_code"], i["error"]["error"]) if i["error"] else None for i in items] == [
        (400, "CorruptImageError"), None, (415, "UnsupportedImageError"), None,
    ]
    assert "truncated" in items[0]["error"]["detail"]
    for t, item in zip(texts, (items[1], items[3])):
        reading = item["reading"]
        assert reading["text"] == t
        assert reading["confidence"] == pytest.approx(single[t]["confidence"], abs=1e-6)
        assert [c["box"] for c in reading["characters"]] == [c["box"] for c in single[t]["characters"]]


@pytest.mark.parametrize(
    "content,ctype,status,error",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "image/png", 400, "CorruptImageError"),
        (b"plain text, no picture", "image/png", 415, "UnsupportedImageError"),
        (b"", "image/png", 400, "CorruptImageError"),
        (b"{}", "application/json", 415, "UnsupportedMediaType"),
    ],
)
def test_bad_bodies_give_4xx_json(client, content: bytes, ctype: str, status: int, error: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/read", content=content, headers={"content-type": ctype})
    assert r.status_code == status
    body = r.json()
    assert body["status_code"] == status and body["error"] == error and body["detail"]


def test_truncated_image(client, photos) -> None:  # type: ignore[no-untyped-def]
    data = photos["94110"]
    r = client.post("/v1/read", files={"image": ("cut.png", data[: len(data) // 3], "image/png")})
    assert r.status_code == 400 and "truncated" in r.json()["detail"]


def test_upload_over_the_limit_is_413(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/read", content=b"\xff" * 2_100_000, headers={"content-type": "image/jpeg"})
    assert r.status_code == 413 and r.json()["error"] == "RequestTooLarge"
    r = client.post("/v1/read", files={"image": ("big.jpg", b"\xff" * 2_100_000, "image/jpeg")})
    assert r.status_code == 413


def test_the_default_upload_limit_takes_a_big_phone_jpeg(recognizer) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app=create_app(recognizer)) as c:
        # 12 MB: read (and refused as no image), not turned away for its size.
        r = c.post("/v1/read", content=b"\xff" * 12_000_000, headers={"content-type": "image/jpeg"})
        assert r.status_code == 415
        r = c.post("/v1/read", content=b"\xff" * (25 * 1024 * 1024 + 1), headers={"content-type": "image/jpeg"})
        assert r.status_code == 413 and r.json()["error"] == "RequestTooLarge"


def test_decompression_bomb_is_413(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/read", files={"image": ("bomb.png", _bomb_png(), "image/png")})
    assert r.status_code == 413 and r.json()["error"] == "ImageTooLargeError"


def test_missing_field_text_field_and_bad_length(client, photos) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/read", files={"picture": ("a.png", photos["3"], "image/png")})
    assert r.status_code == 400 and "no file field 'image'" in r.json()["detail"]
    r = client.post("/v1/read", data={"image": "just text"}, files={"other": ("a.png", b"x", "image/png")})
    assert r.status_code == 400
    r = client.post("/v1/read?length=0", content=photos["3"], headers={"content-type": "image/png"})
    assert r.status_code == 400 and r.json()["status_code"] == 400


def test_blank_page_is_an_empty_reading(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/read", content=png_bytes(np.full((300, 500), 240, np.uint8)), headers={"content-type": "image/png"})
    assert r.status_code == 200
    assert r.json()["text"] == "" and r.json()["characters"] == [] and r.json()["confidence"] == 0.0


def test_health_page_schema_metrics(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/health").json() == {"status": "ok", "model_loaded": True, "version": "0.1.0"}
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<canvas" in page.text and "http://" not in page.text and "https://" not in page.text
    schema = client.get("/schema/openapi.json").json()
    assert {"/v1/read", "/v1/read/batch", "/health"} <= set(schema["paths"])
    read_schema = schema["components"]["schemas"]["ReadResponse"]
    assert {"text", "confidence", "characters", "width", "height", "elapsed_ms"} <= set(read_schema["properties"])
    client.get("/health")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "seqdigits_requests_total" in metrics.text


def test_unknown_route_is_json_404(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/nope")
    assert r.status_code == 404 and r.json()["status_code"] == 404


def test_model_loads_in_lifespan_not_per_request(monkeypatch, photos) -> None:  # type: ignore[no-untyped-def]
    import service.app as app_module

    calls = []
    real = app_module.load_recognizer

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(app_module, "load_recognizer", counting)
    with TestClient(app=create_app()) as c:
        for _ in range(3):
            assert c.post("/v1/read", content=photos["3"], headers={"content-type": "image/png"}).json()["text"] == "3"
    assert len(calls) == 1


def test_app_from_env_reads_a_list_of_line_weights(monkeypatch, photos) -> None:  # type: ignore[no-untyped-def]
    import os

    import service.app as app_module
    from classifier.line_model import default_line_weights_path

    seen = []
    real = app_module.load_recognizer

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs["line_weights"])
        return real(*args, **kwargs)

    monkeypatch.setattr(app_module, "load_recognizer", recording)
    paths = [str(default_line_weights_path())] * 2
    monkeypatch.setenv("SEQDIGITS_LINE_WEIGHTS", os.pathsep.join(paths))
    with TestClient(app=app_module.app_from_env()) as c:
        assert c.post("/v1/read", content=photos["94110"], headers={"content-type": "image/png"}).json()["text"] == "94110"
        assert len(c.app.state.recognizer.lines.readers) == 2
    assert seen == [paths]


@pytest.mark.anyio
async def test_many_simultaneous_requests_all_succeed(recognizer, photos) -> None:  # type: ignore[no-untyped-def]
    async with AsyncTestClient(app=create_app(recognizer)) as c:
        texts = ["94110", "10115", "3", "8675309"] * 8
        responses = await asyncio.gather(
            *(c.post("/v1/read", content=photos[t], headers={"content-type": "image/png"}) for t in texts)
        )
    assert [r.status_code for r in responses] == [200] * len(texts)
    assert [r.json()["text"] for r in responses] == texts


def test_min_confidence_sets_needs_review(client, photos) -> None:  # type: ignore[no-untyped-def]
    strict = client.post("/v1/read?min_confidence=1", content=photos["94110"], headers={"content-type": "image/png"})
    lenient = client.post("/v1/read?min_confidence=0", content=photos["94110"], headers={"content-type": "image/png"})
    assert strict.json()["needs_review"] is True and lenient.json()["needs_review"] is False
    bad = client.post("/v1/read?min_confidence=2", content=photos["94110"], headers={"content-type": "image/png"})
    assert bad.status_code == 400


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.one_of(
        st.binary(max_size=2048),
        st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"II*\x00", b"RIFF\x00\x00\x00\x00WEBP"]).flatmap(
            lambda magic: st.binary(max_size=512).map(lambda tail: magic + tail)
        ),
    ),
    ctype=st.sampled_from(["image/png", "image/jpeg", "application/octet-stream"]),
)
def test_no_payload_makes_a_500(client, payload: bytes, ctype: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/read", content=payload, headers={"content-type": ctype})
    assert r.status_code in (200, 400, 413, 415)
    body = r.json()
    if r.status_code != 200:
        assert body["status_code"] == r.status_code and body["detail"]


def test_pattern_query_parameter(client, photos) -> None:  # type: ignore[no-untyped-def]
    ok = client.post("/v1/read", params={"pattern": r"\d{5}"}, content=photos["94110"], headers={"content-type": "image/png"})
    assert ok.status_code == 200 and ok.json()["text"] == "94110"
    bad = client.post("/v1/read", params={"pattern": "zip"}, content=photos["94110"], headers={"content-type": "image/png"})
    assert bad.status_code == 400 and "cannot read pattern" in bad.json()["detail"]
    both = client.post("/v1/read", params={"pattern": r"\d{5}", "length": 5}, content=photos["94110"], headers={"content-type": "image/png"})
    assert both.status_code == 400
    # A count no line is read as is refused up front: it once went to the decoder, which asked for 24 GB (a 500).
    huge = client.post(
        "/v1/read", params={"pattern": r"\d{5}-\d{100000000}"}, content=photos["94110"], headers={"content-type": "image/png"}
    )
    assert huge.status_code == 400 and "more than 64 digits" in huge.json()["detail"]
