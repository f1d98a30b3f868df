"""A real browser: headless Chromium draws a number on the page's canvas and reads the result."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _require_browser() -> None:
    if CHROMIUM and DRIVER:
        return
    if os.environ.get("SEQDIGITS_REQUIRE_BROWSER") == "1":
        pytest.fail("chromium and chromedriver are required (SEQDIGITS_REQUIRE_BROWSER=1)")
    pytest.skip("chromium/chromedriver not installed")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    _require_browser()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqdigits", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as r:
                    if b'"model_loaded":true' in r.read():
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("service did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=900,900", f"--user-data-dir={tempfile.mkdtemp(prefix='seqdigits-chrome-')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


# Digit strokes in canvas-relative units (0-1 of width, 0-1 of height).
STROKES = {
    "1": [[(0.5, 0.15), (0.5, 0.85)]],
    "7": [[(0.3, 0.18), (0.7, 0.18), (0.45, 0.85)]],
    "0": [[(0.5 + 0.2 * __import__("math").cos(t / 12 * 6.283), 0.5 + 0.36 * __import__("math").sin(t / 12 * 6.283)) for t in range(13)]],
    "4": [[(0.55, 0.15), (0.25, 0.6), (0.75, 0.6)], [(0.6, 0.35), (0.6, 0.88)]],
    "-": [[(0.3, 0.52), (0.7, 0.52)]],
}


def _draw(driver, canvas, text: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.action_chains import ActionChains

    width, height = canvas.size["width"], canvas.size["height"]
    cell = width / (len(text) + 1)
    for i, ch in enumerate(text):
        for stroke in STROKES[ch]:
            points = [((i + 0.5) * cell + x * cell - width / 2, y * height - height / 2) for x, y in stroke]
            chain = ActionChains(driver, duration=10)
            chain.move_to_element_with_offset(canvas, int(points[0][0]), int(points[0][1])).click_and_hold()
            for x, y in points[1:]:
                chain.move_to_element_with_offset(canvas, int(x), int(y))
            chain.release().perform()


def test_draw_and_read_in_chromium(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    canvas = browser.find_element(By.ID, "pad")
    _draw(browser, canvas, "1704")
    browser.find_element(By.ID, "read").click()
    WebDriverWait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "meta"), "confidence"))
    assert browser.find_element(By.ID, "text").text == "1704"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chars tr")) == 4
    assert browser.find_element(By.ID, "error").text == ""
    # The annotated image appears with the reading.
    assert browser.execute_script("return getComputedStyle(document.getElementById('shown')).display") == "block"


def test_page_shows_server_errors(server: str, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    bogus = tmp_path / "scan.png"
    bogus.write_bytes(b"this is not a png")
    browser.find_element(By.ID, "file").send_keys(str(bogus))
    WebDriverWait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "error"), "Could not read it"))
    assert "not a recognised image" in browser.find_element(By.ID, "error").text


def test_a_heic_photo_from_the_page(server: str, browser, tmp_path, mnist_test) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from datasets.synth import LineGenerator, SynthConfig
    from tests.seqdigits.test_api import _heic

    browser.get(server + "/")
    _draw(browser, browser.find_element(By.ID, "pad"), "1704")
    browser.find_element(By.ID, "read").click()
    WebDriverWait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "text"), "1704"))
    image = LineGenerator(mnist_test.images, mnist_test.labels, config=SynthConfig(gap="separated", height=(48, 56)), seed=21).line("94110").image
    photo = tmp_path / "IMG_0001.HEIC"
    photo.write_bytes(_heic(image, orientation=6))
    browser.find_element(By.ID, "file").send_keys(str(photo))
    WebDriverWait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "text"), "94110"))
    assert browser.find_element(By.ID, "error").text == ""
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chars tr")) == 5
    # Chromium cannot show HEIC: the drawing read before is not left beside this reading.
    assert browser.execute_script("return getComputedStyle(document.getElementById('shown')).display") == "none"


def test_two_lines_show_one_under_the_other(server: str, browser, tmp_path, mnist_test) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.conftest import png_bytes
    from tests.seqdigits.test_api import _stacked

    browser.get(server + "/")
    sheet, _ = _stacked(mnist_test, "5551234", "12")
    photo = tmp_path / "address.png"
    photo.write_bytes(png_bytes(sheet))
    browser.find_element(By.ID, "file").send_keys(str(photo))
    WebDriverWait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "meta"), "confidence"))
    # WebDriver gives the text as rendered: the service's newline is a line break on the page, not a space.
    assert browser.find_element(By.ID, "text").text == "5551234\n12"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chars tr")) == 9
    assert browser.execute_script("return getComputedStyle(document.getElementById('shown')).display") == "block"


def test_read_with_a_format_from_the_page(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    _draw(browser, browser.find_element(By.ID, "pad"), "17-04")
    browser.find_element(By.ID, "pattern").send_keys(r"\d{2}-\d{2}")
    browser.find_element(By.ID, "read").click()
    WebDriverWait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "meta"), "confidence"))
    assert browser.find_element(By.ID, "text").text == "17-04"  # the hyphen read as the format's separator
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chars tr")) == 4
    # A format the service cannot parse comes back as its 400, shown on the page.
    browser.find_element(By.ID, "pattern").clear()
    browser.find_element(By.ID, "pattern").send_keys("five digits")
    browser.find_element(By.ID, "read").click()
    WebDriverWait(browser, 30).until(ec.text_to_be_present_in_element((By.ID, "error"), "Could not read it"))
    assert "pattern" in browser.find_element(By.ID, "error").text
