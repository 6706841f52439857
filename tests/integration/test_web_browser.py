"""`unspin serve` for real: a uvicorn subprocess on a free port, driven by headless Chromium.

The server runs `--mode fast --no-engine --fingerprints LIST` (a TSV list written here), so it
starts in about a second; it is started as `python -m unspin.cli.main serve ... --port 0`, and
the test reads the URL it prints on stderr.

What a person does, each with the keyboard alone where it matters: paste a spun paragraph (with
`<script>` and `onerror=` payloads in it), check it, Tab to the highlights, accept / reject,
watch the restored text; upload a file and download the report as JSON, CSV and HTML and the
restored text; an emoji / non-BMP text where accepting the span after an emoji must give exactly
the right string (JavaScript counts UTF-16 units, Python code points); a CRLF file whose restored
text must keep its CRs; a bad upload that must show a reason while the server keeps answering;
a phone-sized screen.

Browser set-up as in test_html_browser.py: Debian `chromium` + `chromium-driver`, pip `selenium`,
chromedriver given explicitly and SE_OFFLINE=true, so nothing is downloaded. These tests skip
without a browser locally and FAIL when UNSPIN_REQUIRE_BROWSER=1 or CI is set. Screenshots are
kept under the test's tmp_path and copied to $UNSPIN_ARTEFACTS when set.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from _browser import PHONE, browser_required, emulate, save_screenshot, start_chrome

_MISSING = [name for name in ("fastapi", "uvicorn", "python_multipart") if importlib.util.find_spec(name) is None]
if _MISSING:  # skipped on a machine without the extra, never in CI
    _MESSAGE = f"the web extra is not installed ({', '.join(_MISSING)}): pip install 'unspin[web]'"
    if browser_required():
        pytest.fail(_MESSAGE + " [CI or UNSPIN_REQUIRE_BROWSER=1: not skipping]", pytrace=False)
    pytest.skip(_MESSAGE, allow_module_level=True)

LIST = ("profound learning\tdeep learning\nhuge information\tbig data\n"
        "counterfeit consciousness\tartificial intelligence\n")

PWN = "window.__pwned = (window.__pwned || 0) + 1; document.title = 'PWNED';"
SCRIPT_PAYLOAD = f"<script>{PWN}</script>"
IMG_PAYLOAD = f'<img src=x onerror="{PWN}">'
PARAGRAPH = ("Recent advances in profound learning have changed how we study huge information. "
             f"Payloads {SCRIPT_PAYLOAD} and {IMG_PAYLOAD} stay text.\n"
             "Some call it counterfeit consciousness.")
EMOJI_TEXT = ("👩‍👩‍👧 Family 🎉 notes: profound learning 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 then 🤖🤖 huge information, "
              "and ￼ 😀 counterfeit consciousness 🏳️‍🌈.")


def _server_command() -> list[str]:
    return [sys.executable, "-m", "unspin.cli.main", "serve"]


def _apply(text: str, findings: list[dict], accepted: set[int]) -> str:
    """What the page must show: the suggestions of `accepted` spans applied, by Python offsets."""
    out, cursor = [], 0
    for n, span in enumerate(findings):
        out.append(text[cursor:span["start"]])
        out.append(span["suggestion"] if n in accepted else span["text"])
        cursor = span["end"]
    out.append(text[cursor:])
    return "".join(out)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-server")
    fingerprints = folder / "spun.tsv"
    fingerprints.write_text(LIST, encoding="utf-8")
    command = _server_command() + ["--port", "0", "--mode", "fast", "--no-engine", "--fingerprints", str(fingerprints),
                                   "--data-dir", str(folder / "data")]
    log = folder / "server.log"
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    found: dict[str, str] = {}
    ready = threading.Event()

    def read_stderr() -> None:  # keep draining stderr into the log, note the URL
        with open(log, "w", encoding="utf-8") as out:
            for line in process.stderr:
                out.write(line)
                out.flush()
                match = re.search(r"serving .* on (http://\S+/)", line)
                if match:
                    found["url"] = match.group(1)
                    ready.set()
        ready.set()

    threading.Thread(target=read_stderr, daemon=True).start()
    try:
        if not ready.wait(90) or "url" not in found:
            raise AssertionError(f"the server did not start ({' '.join(command)}):\n{log.read_text()}")
        url = found["url"]
        assert url.startswith("http://127.0.0.1:")  # loopback by default
        yield SimpleNamespace(url=url, process=process, folder=folder, log=log, fingerprints=str(fingerprints))
        assert process.poll() is None, f"the server died:\n{log.read_text()}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _api(server, path: str, payload: dict) -> dict:
    request = urllib.request.Request(server.url.rstrip("/") + path, data=json.dumps(payload).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(server, downloads):
    browser = start_chrome(downloads)
    try:
        yield browser
    finally:
        browser.quit()


def _open(browser, server, size: tuple[int, int] | None = None) -> None:
    emulate(browser, size)
    browser.get(server.url)
    browser.get_log("browser")  # start each test with an empty console log


def _wait(browser, condition, seconds: float = 30, message: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.05).until(lambda b: condition(b), message)


def _wait_done(browser, marks: int | None = None) -> list:
    from selenium.webdriver.common.by import By

    _wait(browser, lambda b: b.find_element(By.ID, "progress-box").get_attribute("hidden") is not None
          and ("Done" in b.find_element(By.ID, "status").text or b.find_element(By.ID, "error").is_displayed()),
          message="the check did not finish")
    error = browser.find_element(By.ID, "error")
    assert not error.is_displayed(), error.text
    found = browser.find_elements(By.CSS_SELECTOR, "#documents mark.unspin-span")
    if marks is not None:
        assert len(found) == marks
    return found


def _paste(browser, text: str) -> None:
    """Put text in the box as a paste would (send_keys cannot type characters outside the BMP)."""
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, "text")
    browser.execute_script("arguments[0].value = arguments[1];"
                           "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", box, text)


def _restored(browser, number: int = 1) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, f"restored-{number}").get_property("value")


def _press(browser, *keys) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(*keys).perform()


def _tab_to(browser, predicate, limit: int = 60):
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        _press(browser, Keys.TAB)
        active = browser.switch_to.active_element
        if predicate(active):
            return active
    raise AssertionError("Tab never reached the element")


def _button(browser, label: str, document: int = 1):
    from selenium.webdriver.common.by import By

    return next(b for b in browser.find_elements(By.CSS_SELECTOR, f"#page-doc-{document} button") if b.text == label)


def _is_mark(element) -> bool:
    return "unspin-span" in (element.get_attribute("class") or "")


def _downloaded(folder: Path, name: str, seconds: float = 15) -> bytes:
    deadline = time.monotonic() + seconds
    path = folder / name
    while time.monotonic() < deadline:
        if path.exists() and not list(folder.glob("*.crdownload")):
            return path.read_bytes()
        time.sleep(0.05)
    raise AssertionError(f"{name} was not downloaded; the folder holds {sorted(p.name for p in folder.iterdir())}")


def _no_csp_violations(browser) -> None:
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages


# -- the tests ----------------------------------------------------------------------------------------

def test_paste_highlight_accept_and_restore_with_the_keyboard(driver, server, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    report = _api(server, "/api/check", {"text": PARAGRAPH})
    spans = report["spans"]
    assert [s["text"] for s in spans] == ["profound learning", "huge information", "counterfeit consciousness"]
    _open(driver, server)
    driver.execute_script(  # note whether the progress indicator ever shows
        "window.__progressShown = false; var box = document.getElementById('progress-box');"
        "new MutationObserver(function () { if (!box.hidden) { window.__progressShown = true; } })"
        ".observe(box, {attributes: true});")

    box = _tab_to(driver, lambda e: e.get_attribute("id") == "text")  # keyboard only, from the top
    _press(driver, PARAGRAPH)
    assert box.get_property("value") == PARAGRAPH
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()  # checks it
    marks = _wait_done(driver, marks=3)
    assert driver.execute_script("return window.__progressShown") is True
    assert [m.text for m in marks] == [s["text"] for s in spans]
    assert _restored(driver) == PARAGRAPH  # nothing accepted yet

    first = _tab_to(driver, _is_mark)
    assert first.get_attribute("id") == "doc-1-f1"
    inspector = driver.find_element(By.ID, "inspector")
    assert inspector.is_displayed() and "deep learning" in inspector.text and "confidence 0.95" in inspector.text
    assert "fingerprint" in driver.find_element(By.ID, "ins-why").text
    _press(driver, "a")  # accept
    assert _restored(driver) == _apply(PARAGRAPH, spans, {0})
    assert first.get_attribute("data-decision") == "accepted"

    second = _tab_to(driver, _is_mark)
    assert second.get_attribute("id") == "doc-1-f2"
    _press(driver, "r")  # reject
    assert _restored(driver) == _apply(PARAGRAPH, spans, {0})

    third = _tab_to(driver, _is_mark)
    _press(driver, Keys.ENTER)  # to the decision buttons
    active = driver.switch_to.active_element
    assert active.tag_name == "button" and "artificial intelligence" in active.text
    _press(driver, Keys.ENTER)  # accept; the focus goes back to the span
    assert driver.switch_to.active_element == third
    assert _restored(driver) == _apply(PARAGRAPH, spans, {0, 2})
    counts = driver.find_element(By.ID, "page-doc-1-counts").text
    assert counts == "2 accepted · 1 rejected · 0 to review"
    save_screenshot(driver, tmp_path, "unspin-web-desktop-review.png")

    driver.find_element(By.ID, "accept-all").click()
    assert _restored(driver) == report["restored"]
    driver.find_element(By.ID, "undo-all").click()
    assert _restored(driver) == PARAGRAPH

    state = driver.execute_script(
        "return {pwned: window.__pwned === undefined ? null : window.__pwned, title: document.title,"
        " scripts: document.scripts.length, injected: document.querySelectorAll("
        "'img, svg, iframe, [onerror], [onload], [onfocus]').length};")
    assert state == {"pwned": None, "title": "unspin", "scripts": 1, "injected": 0}
    text = driver.find_element(By.ID, "doc-1-text").text
    assert SCRIPT_PAYLOAD in text and IMG_PAYLOAD in text  # shown, as text
    _no_csp_violations(driver)


def test_emoji_and_non_bmp_text_restores_exactly(driver, server, downloads) -> None:
    from selenium.webdriver.common.by import By

    report = _api(server, "/api/check", {"text": EMOJI_TEXT})
    spans = report["spans"]
    assert len(spans) == 3 and all(EMOJI_TEXT[s["start"]:s["end"]] == s["text"] for s in spans)
    # Python offsets are not UTF-16 offsets here: slicing in JavaScript with them would be wrong.
    assert len(EMOJI_TEXT[:spans[1]["start"]].encode("utf-16-le")) // 2 != spans[1]["start"]
    _open(driver, server)
    _paste(driver, EMOJI_TEXT)
    driver.find_element(By.ID, "check-text").click()
    marks = _wait_done(driver, marks=3)
    assert [m.text for m in marks] == [s["text"] for s in spans]

    driver.execute_script("arguments[0].focus();", marks[1])  # the span after the emoji and the non-BMP letters
    _press(driver, "a")
    want = _apply(EMOJI_TEXT, spans, {1})
    assert _restored(driver) == want
    assert want == EMOJI_TEXT.replace("huge information", "big data")
    driver.execute_script("arguments[0].focus();", marks[2])
    _press(driver, "1")  # the first choice: the suggestion
    assert _restored(driver) == _apply(EMOJI_TEXT, spans, {1, 2})

    for old in downloads.glob("unspin-restored*.txt"):
        old.unlink()
    _button(driver, "Download restored text").click()
    assert _downloaded(downloads, "unspin-restored.txt").decode("utf-8") == _apply(EMOJI_TEXT, spans, {1, 2})


def test_upload_a_file_and_download_the_reports(driver, server, downloads, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    from unspin.pipeline import get_checker

    text = "Title 🎉\r\nWe used profound learning on huge information.\r\n" + f"{SCRIPT_PAYLOAD}\r\n"
    paper = tmp_path / "paper.txt"
    paper.write_bytes(text.encode("utf-8"))
    for old in downloads.glob("paper-*"):
        old.unlink()
    _open(driver, server)
    driver.find_element(By.ID, "file").send_keys(str(paper))
    driver.find_element(By.ID, "check-file").click()
    _wait_done(driver, marks=2)
    assert driver.find_element(By.ID, "page-doc-1-title").text == "paper.txt"

    driver.find_element(By.ID, "accept-all").click()
    _button(driver, "Download restored text").click()
    restored = _downloaded(downloads, "paper-restored.txt")
    want_text = text.replace("profound learning", "deep learning").replace("huge information", "big data")
    assert restored == want_text.encode("utf-8")
    assert b"\r\n" in restored  # the carriage returns survived the HTML round trip

    from unspin.documents import extract

    checker = get_checker(mode="fast", fingerprints=(server.fingerprints,), engine=False)
    want = json.loads(json.dumps(checker.check_document(extract(text.encode(), name="paper.txt")).to_dict()))
    driver.find_element(By.ID, "download-json").click()
    assert json.loads(_downloaded(downloads, "paper-report.json")) == want
    driver.find_element(By.ID, "download-csv").click()
    csv_text = _downloaded(downloads, "paper-report.csv").decode("utf-8")
    assert csv_text.startswith("id,start,end,line,column,page,section,text,suggestion") and "deep learning" in csv_text
    driver.find_element(By.ID, "download-html").click()
    html = _downloaded(downloads, "paper-report.html").decode("utf-8")
    assert "Content-Security-Policy" in html and "&lt;script&gt;" in html and "deep learning" in html

    try:  # copying: the clipboard is readable in headless Chromium once the permission is granted
        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": server.url.rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    except Exception:  # noqa: BLE001 - an older Chromium: the status line is checked below all the same
        pass
    _button(driver, "Copy restored text").click()
    _wait(driver, lambda b: "Copied" in b.find_element(By.ID, "status").text, 10, "copy did not report success")
    pasted = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, function (e) { done('ERROR ' + e); });")
    if not pasted.startswith("ERROR"):
        assert pasted == restored.decode("utf-8")
    _no_csp_violations(driver)


def test_upload_an_html_document(driver, server, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    page = tmp_path / "article.html"
    page.write_bytes(b"<html><head><title>T</title></head><body><h1>Methods</h1><p>We used profound learning "
                     b"&amp; <b>huge information</b>.</p><h2>References</h2><p>Smith J. Counterfeit "
                     b"consciousness. 2020.</p></body></html>")
    _open(driver, server)
    driver.find_element(By.ID, "file").send_keys(str(page))
    driver.find_element(By.ID, "check-file").click()
    marks = _wait_done(driver, marks=2)  # the reference list is extracted but not judged
    assert [m.text for m in marks] == ["profound learning", "huge information"]
    driver.find_element(By.ID, "accept-all").click()
    assert _restored(driver).startswith("Methods\n\nWe used deep learning & big data.")


def test_a_bad_upload_shows_its_reason_and_the_server_keeps_answering(driver, server, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, server)
    for name, data, reason in (("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "no text layer"),
                               ("notes.txt", "café".encode("latin-1"), "not valid UTF-8"),
                               ("batch.jsonl", b'{"text": "ok"}\n{broken\n', "line 2"),
                               ("paper.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "truncated PDF"),
                               ("bundle.gz", b"\x1f\x8b\x08\x00\x00\x00", "gzip file")):
        path = tmp_path / name
        path.write_bytes(data)
        driver.find_element(By.ID, "file").send_keys(str(path))
        driver.find_element(By.ID, "check-file").click()
        error = _wait(driver, lambda b: b.find_element(By.ID, "error") if b.find_element(By.ID, "error").is_displayed()
                      else False, 15, f"no error shown for {name}")
        assert reason in error.text, (name, error.text)
        assert error.get_attribute("role") == "alert"
        driver.find_element(By.ID, "file").clear()
    _paste(driver, "It is profound learning.")
    driver.find_element(By.ID, "check-text").click()
    _wait_done(driver, marks=1)
    assert server.process.poll() is None


def test_phone_layout_and_tapping_a_span(driver, server, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, server, PHONE)
    try:
        _paste(driver, PARAGRAPH + "\n" + EMOJI_TEXT)
        driver.find_element(By.ID, "check-text").click()
        marks = _wait_done(driver, marks=6)
        sizes = driver.execute_script(
            "const d = document.documentElement; return [window.innerWidth, d.clientWidth, d.scrollWidth,"
            " document.body.scrollWidth];")
        assert sizes[0] == PHONE[0], sizes
        assert sizes[2] <= sizes[1] and sizes[3] <= sizes[1], f"horizontal overflow at {PHONE}: {sizes}"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", marks[1])
        marks[1].click()  # a tap focuses the span
        inspector = driver.find_element(By.ID, "inspector")
        assert inspector.is_displayed() and "big data" in inspector.text
        left, right, bottom = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.bottom];", inspector)
        assert 0 <= left and right <= PHONE[0] and bottom <= PHONE[1] + 1  # along the bottom, on screen
        accept = next(b for b in inspector.find_elements(By.TAG_NAME, "button") if b.text.startswith("Accept"))
        accept.click()
        assert "big data" in _restored(driver) and driver.execute_script(
            "return document.documentElement.scrollWidth") <= PHONE[0]
        save_screenshot(driver, tmp_path, "unspin-web-phone.png")
    finally:
        _open(driver, server)
