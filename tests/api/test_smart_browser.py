"""The login and consent pages in a real browser (headless Chromium from the Debian packages):
plain HTML forms that work without JavaScript, over http on 127.0.0.1 (CONTRACT.md)."""
from __future__ import annotations

import os
import shutil
import tempfile
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from tests.auth.smart_app import Authorization, new_app, new_user
from tests.factories import patient

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="no browser installed (CI installs the Debian chromium and chromium-driver)")


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_login_and_consent_pages_work_in_a_browser_without_javascript(live_server, client, unique, browser):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    me = client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, f"Patient/{me['id']}")
    params, verifier = app.authorize_params("launch/patient patient/*.rs")
    browser.get(f"{live_server.root_url}/auth/authorize?{urlencode(params)}")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    login = browser.find_element(By.CSS_SELECTOR, "button[type=submit]")
    login.click()
    WebDriverWait(browser, 10).until(expected_conditions.staleness_of(login))  # the consent page replaced it
    allow = WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: next((b for b in d.find_elements(By.TAG_NAME, "button") if "Allow" in b.text), None))
    assert any("Deny" in b.text for b in browser.find_elements(By.TAG_NAME, "button"))
    allow.click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.startswith(app.redirect_uri))
    query = parse_qs(urlparse(browser.current_url).query)
    assert query["state"] == [params["state"]]
    token = app.exchange(Authorization(query, verifier, params["state"]))
    assert token.status_code == 200 and token.json()["patient"] == me["id"]
