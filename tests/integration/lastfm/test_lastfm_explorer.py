"""The explorer page in real headless Chromium (Debian's chromium + chromedriver).

The test starts the HTTP service (uvicorn, loopback, free port) on the Last.fm graph and a
headless Chromium, searches a user, checks that the neighbourhood is drawn with
recommendations and reasons, expands a node by clicking it, and saves screenshots in
``.interestgraph-test/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

from interestgraph.api import InterestGraph
from interestgraph.service.app import create_app
from tests.conftest import TEST_HOME, free_port
from tests.integration.test_ingest import needs_data

pytestmark = [needs_data, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
TOKEN = "explorer-test-token"


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        msg = "Debian chromium + chromium-driver not installed (scripts/dev.sh installs them)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--window-size=1400,900",
    ):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def service(served):
    import uvicorn

    port = free_port()
    app = create_app(InterestGraph(served), TOKEN)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _nodes(driver):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "svg#graph circle.node")


def test_search_a_user_draws_the_neighbourhood_and_click_expands(browser, service, served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    shots = TEST_HOME / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    browser.get(f"{service}/#token={TOKEN}")
    assert browser.title == "InterestGraph explorer"
    browser.find_element(By.ID, "search").send_keys("3", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: len(_nodes(d)) >= 5)
    first = _nodes(browser)
    centre = browser.find_element(By.CSS_SELECTOR, "circle.node.centre")
    assert centre.get_attribute("data-key") == "user:3"
    kinds = {c.get_attribute("class").split()[1] for c in first}
    assert kinds == {"user", "item", "topic"}  # purchases, friends, interests, recs
    drawn = {c.get_attribute("data-key") for c in first}
    recs = InterestGraph(served).recommend("3", k=5)
    assert {f"item:{r.item_id}" for r in recs} <= drawn
    listed = browser.find_element(By.ID, "recs").text
    assert recs[0].reasons[0] in listed
    assert len(browser.find_elements(By.CSS_SELECTOR, "line.edge.RECOMMENDED")) == len(recs)
    browser.save_screenshot(str(shots / "explorer-user-3.png"))

    topic = browser.find_element(By.CSS_SELECTOR, "circle.node.topic")
    key = topic.get_attribute("data-key")
    browser.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", topic
    )
    WebDriverWait(browser, 30).until(lambda d: len(_nodes(d)) > len(first))
    centre = browser.find_element(By.CSS_SELECTOR, "circle.node.centre")
    assert centre.get_attribute("data-key") == key
    assert drawn <= {c.get_attribute("data-key") for c in _nodes(browser)}  # expanded, kept
    browser.save_screenshot(str(shots / "explorer-expanded.png"))
    assert (shots / "explorer-user-3.png").stat().st_size > 10_000


def test_a_wrong_token_shows_the_error(browser, service):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{service}/?fresh=1#token=wrong")  # a new URL: the page loads again
    browser.find_element(By.ID, "search").send_keys("3", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: "401" in d.find_element(By.ID, "status").text)
    assert len(_nodes(browser)) == 0
