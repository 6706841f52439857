"""Debian Chromium driven by Selenium for the browser tests: found, required in CI, started offline.

The browser and its driver are the Debian packages (`scripts/install.sh --with-test-tools`);
UNSPIN_CHROMIUM / UNSPIN_CHROMEDRIVER name others. Selenium Manager never runs (explicit driver
path, SE_OFFLINE), so nothing is downloaded. Without a browser the tests skip locally and FAIL
when UNSPIN_REQUIRE_BROWSER=1 or CI is set. Screenshots are copied to $UNSPIN_ARTEFACTS when set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("UNSPIN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("UNSPIN_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
INSTALL = "apt-get install -y chromium chromium-driver && pip install selenium"
PHONE = (375, 740)


def browser_required() -> bool:
    return os.environ.get("UNSPIN_REQUIRE_BROWSER") == "1" or os.environ.get("CI", "").lower() in ("1", "true")


def require_browser() -> None:
    problems = [f"{path} not found" for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        problems.append("selenium is not installed")
    if problems:
        message = f"browser test cannot run: {'; '.join(problems)} (install: {INSTALL})"
        if browser_required():
            pytest.fail(message + " [UNSPIN_REQUIRE_BROWSER=1 or CI set: not skipping]", pytrace=False)
        pytest.skip(message + " [set UNSPIN_REQUIRE_BROWSER=1 to fail instead]")


def start_chrome(downloads: Path | None = None):
    """A headless Chromium at 1100x900 that keeps its console log (and saves downloads there)."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-extensions", "--no-first-run", "--window-size=1100,900",
                     "--force-device-scale-factor=1"):
        options.add_argument(argument)  # --no-sandbox: containers and root, where the sandbox cannot start
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")  # belt and braces: Selenium Manager must not fetch anything
        browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(30)
    if downloads is not None:
        browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return browser


def emulate(browser, size: tuple[int, int] | None) -> None:
    """The desktop window, or a phone: viewport, device pixels and the mobile meta-viewport."""
    if size is None:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    else:
        width, height = size
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})


def save_screenshot(browser, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    assert browser.save_screenshot(str(shot)), "screenshot failed"
    artefacts = os.environ.get("UNSPIN_ARTEFACTS")
    if artefacts:
        Path(artefacts).mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, Path(artefacts) / name)
    return shot
