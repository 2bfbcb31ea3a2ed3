"""The login, picker and consent pages in a real browser (headless Chromium from the Debian packages):
plain HTML forms that work without JavaScript, over http on 127.0.0.1 (CONTRACT.md), screenshot at desktop
and phone widths and checked with axe-core; and a browser SMART app (the SMART JS client's browser bundle)
on another origin reading a patient's MedicationRequests after consent, which needs CORS."""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from server.auth.clients import register_client
from tests.auth.smart_app import Authorization, new_app, new_user
from tests.factories import medication_request, patient
from tests.js_support import JS_DIR, node_modules

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="no browser installed (CI installs the Debian chromium and chromium-driver)"
)


def _chromium(javascript: bool):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.quit = _and_remove(driver.quit, profile)
    return driver


def _and_remove(quit, profile: str):
    def quit_and_remove():
        try:
            quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    return quit_and_remove


@pytest.fixture
def browser():
    """Chromium with JavaScript off: the pages must work without it."""
    driver = _chromium(javascript=False)
    try:
        yield driver
    finally:
        driver.quit()


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
        lambda d: next((b for b in d.find_elements(By.TAG_NAME, "button") if "Allow" in b.text), None)
    )
    assert any("Deny" in b.text for b in browser.find_elements(By.TAG_NAME, "button"))
    allow.click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.startswith(app.redirect_uri))
    query = parse_qs(urlparse(browser.current_url).query)
    assert query["state"] == [params["state"]]
    token = app.exchange(Authorization(query, verifier, params["state"]))
    assert token.status_code == 200 and token.json()["patient"] == me["id"]


SCREENSHOTS = Path(os.environ.get("FHIR_SCREENSHOT_DIR") or tempfile.gettempdir()) / "fhir-auth-pages"
WIDTHS = {"desktop": (1280, 1000), "phone": (390, 1100)}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture
def js_browser():
    """Chromium with JavaScript on: for the browser SMART app and for running axe-core in the pages."""
    driver = _chromium(javascript=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def app_origin():
    """The browser SMART app (tests/js/browser_app and the SMART JS client's browser bundle) served from
    another origin than the FHIR server's, as a browser app is."""
    root = Path(tempfile.mkdtemp(prefix="smart-app-"))
    for page in (JS_DIR / "browser_app").glob("*.html"):
        shutil.copy(page, root / page.name)
    shutil.copy(node_modules() / "fhirclient" / "build" / "fhir-client.js", root / "fhir-client.js")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    shutil.rmtree(root, ignore_errors=True)


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _sign_in_and_allow(driver, username: str, password: str) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.NAME, "username"))
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # the sign-in page's buttons go stale while the consent page loads: look again until it has
    allow = WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: next((b for b in d.find_elements(By.TAG_NAME, "button") if "Allow" in b.text), None)
    )
    allow.click()


def test_browser_smart_app_reads_medications_cross_origin_after_consent(
    live_server, client, unique, js_browser, app_origin
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    me = client.create(patient(unique))
    prescriptions = {client.create(medication_request(me["id"]))["id"] for _ in range(2)}
    username, password = new_user(live_server, f"Patient/{me['id']}")
    registered = register_client(
        live_server.app.extensions["fhir.services"].database,
        name="Browser medication app",
        redirect_uris=[f"{app_origin}/index.html"],
        scope="patient/*.rs",
        public=True,
    )
    query = urlencode(
        {
            "client_id": registered["client_id"],
            "scope": "launch/patient openid fhirUser patient/*.rs",
            "iss": live_server.base_url,
        }
    )
    js_browser.get(f"{app_origin}/launch.html?{query}")
    _sign_in_and_allow(js_browser, username, password)
    WebDriverWait(js_browser, 30).until(
        lambda d: d.current_url.startswith(app_origin) and d.find_element(By.ID, "result").text != "waiting"
    )
    text = js_browser.find_element(By.ID, "result").text
    assert not text.startswith("ERROR"), text
    result = json.loads(text)
    assert result["patient"] == me["id"] and set(result["medications"]) == prescriptions
    assert result["names"] == ["sertraline 50 MG Oral Tablet"] * 2


def _check_page(driver, name: str) -> list:
    """Screenshots at desktop and phone widths, and the axe-core violations at each."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    axe = (node_modules() / "axe-core" / "axe.min.js").read_text()
    violations = []
    for width_name, (width, height) in WIDTHS.items():
        driver.set_window_size(width, height)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}-{width_name}.png"))
        driver.execute_script(axe)
        found = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' '))}))))"
            ".catch(e => done([{id: 'axe-error', help: String(e)}]));",
            AXE_TAGS,
        )
        violations += [{"page": name, "width": width_name, **v} for v in found]
    return violations


def test_auth_pages_pass_axe_at_desktop_and_phone_widths(live_server, client, unique, js_browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    record = client.create(patient(mrn=f"ax-{unique}", family=f"Axe{unique[:6]}", birthDate="1962-07-14"))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, "Practitioner/ax-" + unique[:8])
    params, _ = app.authorize_params(
        "launch/patient patient/MedicationRequest.rs patient/Condition.rs offline_access openid fhirUser"
    )
    violations = []
    js_browser.get(f"{live_server.root_url}/auth/authorize?{urlencode(params)}")
    violations += _check_page(js_browser, "login")
    js_browser.find_element(By.NAME, "username").send_keys(username)
    js_browser.find_element(By.NAME, "password").send_keys("wrong password")
    js_browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(js_browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    violations += _check_page(js_browser, "login-error")
    js_browser.find_element(By.NAME, "username").send_keys(username)
    js_browser.find_element(By.NAME, "password").send_keys(password)
    js_browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(js_browser, 10).until(lambda d: d.find_elements(By.NAME, "mrn"))
    js_browser.find_element(By.NAME, "mrn").send_keys(f"ax-{unique}")
    js_browser.find_element(By.XPATH, "//button[normalize-space()='Search']").click()
    WebDriverWait(js_browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"input[value='{record['id']}']"))
    violations += _check_page(js_browser, "picker")
    js_browser.find_element(By.CSS_SELECTOR, "label[for=patient-1]").click()  # the label selects the patient
    js_browser.find_element(By.XPATH, "//button[normalize-space()='Continue']").click()
    WebDriverWait(js_browser, 10).until(lambda d: d.find_elements(By.NAME, "scope"))
    assert f"Axe{unique[:6]}, Jane" in js_browser.page_source and "14 July 1962" in js_browser.page_source
    violations += _check_page(js_browser, "consent")
    js_browser.get(f"{live_server.root_url}/auth/authorize?client_id=unknown&redirect_uri=http://x/")
    violations += _check_page(js_browser, "error")
    assert violations == [], json.dumps(violations, indent=1)
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 10
