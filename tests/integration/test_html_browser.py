"""The HTML report in a real headless Chromium: highlights, keyboard tooltips, hostile input, phones.

Needs the Debian packages `chromium` and `chromium-driver` and the Python package `selenium`.
Selenium is given the chromedriver path explicitly (the one on PATH, normally /usr/bin/chromedriver),
so Selenium Manager never runs and nothing is downloaded; UNSPIN_CHROMIUM / UNSPIN_CHROMEDRIVER
override the paths.

Without a browser these tests skip locally, but FAIL when UNSPIN_REQUIRE_BROWSER=1 or CI is set
(CI must never pass by skipping them): export UNSPIN_REQUIRE_BROWSER=1 in the test script.

Screenshots (the top of the page; a tooltip open on a desktop; the tooltip bar on a phone) go under the
test's tmp_path, and are copied to $UNSPIN_ARTEFACTS when that variable names a folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _browser import PHONE, emulate, save_screenshot, start_chrome

from unspin.model import Finding, Report
from unspin.report.html import render_html

PWN = "window.__pwned = (window.__pwned || 0) + 1; document.title = 'PWNED';"
SCRIPT_PAYLOAD = f"<script>{PWN}</script>"
IMG_PAYLOAD = f'<img src=x onerror="{PWN}">'
ATTR_PAYLOAD = f'" autofocus onfocus="{PWN}" x="'
LONG_URL = "https://example.org/" + "a-very-long-path-segment-" * 12  # one unbreakable token
TEXT = (
    "Recent advances in profound learning have transformed computer vision. "
    f"Payloads {SCRIPT_PAYLOAD} and {IMG_PAYLOAD} stay text. "
    f"See {LONG_URL} for the counterfeit consciousness benchmark.\n"
    "A second paragraph about huge information and nothing else."
)


def _finding(phrase: str, suggestion: str, confidence: float, **extra) -> Finding:
    start = TEXT.index(phrase)
    return Finding(start, start + len(phrase), phrase, suggestion, extra.pop("alternatives", ()), confidence,
                   extra.pop("detector", "engine.v1"), **extra)


SPANS = (
    _finding("profound learning", "deep learning", 0.96, alternatives=("machine learning",),
             evidence={"trigram_gain": 3.2, "window_rate": 0.2, "linked_by": ["moby"]}),
    _finding(IMG_PAYLOAD, ATTR_PAYLOAD, 0.8, detector=SCRIPT_PAYLOAD, rule=IMG_PAYLOAD,
             evidence={"query": SCRIPT_PAYLOAD, "list": IMG_PAYLOAD, "line": 3}),
    _finding("counterfeit consciousness", "artificial intelligence", 0.75, detector="fingerprints.v1",
             rule="pps:12", evidence={"query": "counterfeit consciousness", "list": "pps", "line": 12, "papers": 99}),
    _finding("huge information", SCRIPT_PAYLOAD, 0.55),
)
REPORTS = [
    (Report(id=IMG_PAYLOAD, mode="fast", model="smollm2-135m-instruct-q8_0/" + "x" * 80, score=0.93, verdict="spun",
            spans=SPANS, restored="", unspin_version="0.1.0", words=len(TEXT.split())), TEXT),
    (Report(id="clean-2", mode="fast", model=None, score=0.5, verdict="clean", spans=(), restored="Clean.",
            unspin_version="0.1.0", words=1), "Clean."),
]
RESOURCES = [{"name": "idioms", "kind": "phrase table", "version": "idioms-v1", "entries": 1200, "sha256": "e3" * 32},
             {"name": SCRIPT_PAYLOAD, "kind": "thesaurus", "version": None, "entries": None, "sha256": None,
              "missing": IMG_PAYLOAD}]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("html-report") / "report.html"
    path.write_text(render_html(REPORTS, title="Browser check <b>bold?</b>", resources=RESOURCES), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def driver():
    browser = start_chrome()
    try:
        yield browser
    finally:
        browser.quit()


def _open(browser, page: Path, size: tuple[int, int] | None = None) -> None:
    emulate(browser, size)
    browser.get(page.as_uri())


def _tab_to_first_span(browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(40):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        active = browser.switch_to.active_element
        if "unspin-span" in (active.get_attribute("class") or ""):
            return active
    raise AssertionError("Tab never reached a highlighted span")


def test_spans_highlighted_and_tooltip_shown_on_keyboard_focus(driver, page, tmp_path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(driver, page)
    marks = driver.find_elements(By.CSS_SELECTOR, "mark.unspin-span[data-start]")
    assert [int(m.get_attribute("data-start")) for m in marks] == [s.start for s in SPANS]
    assert [m.get_attribute("data-suggestion") for m in marks] == [s.suggestion for s in SPANS]
    assert [m.text for m in marks] == [s.text for s in SPANS]
    tips = driver.find_elements(By.CSS_SELECTOR, "#doc-1-text .unspin-tip")
    assert len(tips) == len(SPANS) and not any(t.is_displayed() for t in tips)  # the stylesheet applied

    first = _tab_to_first_span(driver)
    assert first.get_attribute("id") == "doc-1-f1"
    tip = driver.find_element(By.ID, "doc-1-f1-tip")
    assert tip.is_displayed()
    assert "suggestion: deep learning" in tip.text and "confidence 0.96" in tip.text
    assert "or: machine learning" in tip.text
    box = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.right];", tip)
    assert 0 <= box[0] and box[1] <= driver.execute_script("return document.documentElement.clientWidth")
    save_screenshot(driver, tmp_path, "unspin-report-desktop-focus.png")

    ActionChains(driver).send_keys(Keys.TAB).perform()  # the next span: the hostile one, shown as text
    second = driver.switch_to.active_element
    assert second.get_attribute("id") == "doc-1-f2" and not tip.is_displayed()
    hostile_tip = driver.find_element(By.ID, "doc-1-f2-tip")
    assert hostile_tip.is_displayed() and ATTR_PAYLOAD.strip() in hostile_tip.text
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()  # dismissible (the inline script ran)
    assert not hostile_tip.is_displayed()

    ActionChains(driver).move_to_element(marks[2]).perform()  # hover shows it too
    assert driver.find_element(By.ID, "doc-1-f3-tip").is_displayed()


def test_hostile_payloads_did_not_run(driver, page, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, page)
    save_screenshot(driver, tmp_path, "unspin-report-desktop-top.png")
    state = driver.execute_script(
        "return {pwned: window.__pwned === undefined ? null : window.__pwned, title: document.title,"
        " scripts: document.scripts.length, injected: document.querySelectorAll("
        "'img, svg, iframe, [onerror], [onfocus], [autofocus], [onload]').length};")
    assert state == {"pwned": None, "title": "Browser check <b>bold?</b>", "scripts": 1, "injected": 0}
    body = driver.find_element(By.TAG_NAME, "body").text
    assert SCRIPT_PAYLOAD in body and IMG_PAYLOAD in body  # visible, as text
    for link in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
        assert link.get_attribute("href").startswith(page.as_uri() + "#doc-")
    messages = [entry["message"] for entry in driver.get_log("browser")]
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages


def test_phone_width_has_no_horizontal_overflow(driver, page, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, page, PHONE)
    try:
        sizes = driver.execute_script(
            "const d = document.documentElement; return [window.innerWidth, d.clientWidth, d.scrollWidth,"
            " document.body.scrollWidth];")
        assert sizes[0] == PHONE[0], sizes  # the emulation took
        assert sizes[2] <= sizes[1] and sizes[3] <= sizes[1], f"horizontal overflow at {PHONE}: {sizes}"
        first = _tab_to_first_span(driver)
        tip = driver.find_element(By.ID, first.get_attribute("aria-describedby"))
        assert tip.is_displayed() and "deep learning" in tip.text
        left, right, bottom = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.bottom];", tip)
        assert 0 <= left and right <= PHONE[0] and bottom <= PHONE[1]  # the bar along the bottom edge
        assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
        save_screenshot(driver, tmp_path, "unspin-report-phone-focus.png")
    finally:
        _open(driver, page)
