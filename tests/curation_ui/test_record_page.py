"""What an annotator sees first: the record page of a pushed review dataset in Argilla's real web UI, driven
by headless Chromium (Selenium + Debian's chromium-driver), logged in as an annotator.

Checked on the rendered page, not on the settings: the request, then plans A and B side by side with their
differing lines highlighted, all inside the first screen; the function docs below them and collapsed; no
answer pre-selected (suggestions are off unless ``--suggestions``). A screenshot is kept in the test's folder."""

from __future__ import annotations

import shutil
import time
import uuid

import argilla as rg
import pytest
from PIL import Image

pytestmark = pytest.mark.integration

PASSWORD = "annot-pass-123"
WINDOW = (1440, 1000)
APT_HINT = "apt-get install -y chromium chromium-driver"


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail(f"headless Chromium and its driver are needed to look at the review page: {APT_HINT}")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    return webdriver.Chrome(service=Service(driver), options=options)


def _wait(predicate, timeout: float = 30.0, what: str = "the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:  # the page is still loading: elements come and go
            value = None
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def pushed(argilla_server, gen, plans_dir, tmp_path_factory):
    """Pairs pushed without suggestions to a fresh workspace with one annotator; deleted afterwards."""
    tag = uuid.uuid4().hex[:8]
    env = {"ARGILLA_API_URL": argilla_server.api_url, "ARGILLA_API_KEY": argilla_server.api_key}
    pairs_dir = tmp_path_factory.mktemp("page") / "pairs"
    assert gen("pairs", plans_dir, "--out", pairs_dir, "--rejected", "corruptions").exit_code == 0
    workspace, name = f"pf-page-{tag}", f"page-{tag}"
    pushed = gen("review", "push", pairs_dir, "--dataset", name, "--workspace", workspace, env=env)
    assert pushed.exit_code == 0, pushed.output
    client = rg.Argilla(api_url=argilla_server.api_url, api_key=argilla_server.api_key)
    ws = client.workspaces(workspace)
    user = rg.User(username=f"annotator-{tag}", password=PASSWORD, role="annotator", client=client).create()
    user.add_to_workspace(ws)
    dataset = client.datasets(name, workspace=workspace)
    try:
        yield {"url": argilla_server.api_url, "dataset": dataset, "user": user.username}
    finally:
        for ds in ws.datasets:
            ds.delete()
        user.delete()
        ws.delete()


def test_an_annotator_sees_the_request_and_both_plans_first(pushed, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser = _browser()
    try:
        browser.get(f"{pushed['url']}/sign-in")
        _wait(lambda: browser.find_element(By.NAME, "Username"), what="the sign-in form").send_keys(pushed["user"])
        password = browser.find_element(By.NAME, "Password")
        password.send_keys(PASSWORD)
        password.send_keys(Keys.ENTER)
        _wait(lambda: "sign-in" not in browser.current_url, what="signing in")
        browser.get(f"{pushed['url']}/dataset/{pushed['dataset'].id}/annotation-mode")
        frames = _wait(lambda: len(f := browser.find_elements(By.TAG_NAME, "iframe")) >= 2 and f, what="the record")
        request = _wait(lambda: browser.find_element(By.XPATH, "//*[normalize-space(text())='Request']"))
        shot = tmp_path / "record-page.png"
        browser.save_screenshot(str(shot))

        plans_frame, functions_frame = frames[:2]
        plans_top = plans_frame.location["y"]
        assert request.location["y"] < plans_top < functions_frame.location["y"]
        # Both plans sit inside the first screen, next to each other.
        browser.switch_to.frame(plans_frame)
        a = browser.find_element(By.ID, "pf-plan-a")
        b = browser.find_element(By.ID, "pf-plan-b")
        assert a.location["y"] == b.location["y"] and a.location["x"] < b.location["x"]
        assert "Plan A" in a.text and "Plan B" in b.text and "join()" in a.text and "join()" in b.text
        bottom = plans_top + max(a.location["y"] + a.size["height"], b.location["y"] + b.size["height"])
        assert bottom <= WINDOW[1] - 120, f"the plans end at {bottom}px, below the first screen"
        changed = browser.find_elements(By.CSS_SELECTOR, ".pf-changed")
        assert changed, "a corrupted plan must show the lines that differ"
        background = changed[0].value_of_css_property("background-color")
        assert background not in ("rgba(0, 0, 0, 0)", "transparent")
        browser.switch_to.default_content()
        # The function docs: folded until opened.
        browser.switch_to.frame(functions_frame)
        details = browser.find_element(By.ID, "pf-functions")
        assert details.get_attribute("open") is None
        assert "Offered functions (" in details.text and not details.find_element(By.TAG_NAME, "pre").is_displayed()
        details.find_element(By.TAG_NAME, "summary").click()
        assert details.find_element(By.TAG_NAME, "pre").is_displayed()
        browser.switch_to.default_content()
        # No answer chosen for the annotator: suggestions are off by default.
        checked = browser.execute_script("return document.querySelectorAll('input:checked').length")
        assert checked == 0
        assert "Which plan is correct?" in browser.page_source
    finally:
        browser.quit()

    image = Image.open(shot)
    assert image.size[0] >= WINDOW[0] - 20 and len(image.convert("RGB").getcolors(1 << 20) or []) > 50
