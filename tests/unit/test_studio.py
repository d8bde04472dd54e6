"""The studio page in a real browser: Debian's headless Chromium driven by Selenium walks seed
000's Workflow 2 (register, upload and record samples, clone with live progress, speak with
the clone as a stream, download), a bad upload, and a second user who sees none of it.

Screenshots of each step go to ``$VOXIFY_TEST_ARTIFACTS`` (default ``test-artifacts/``).
Without Chromium the test skips, unless ``VOXIFY_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import soundfile as sf

from tests.unit.conftest import serve_over_loopback
from voxify.api.context import Services

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ROOT = Path(__file__).parents[2]
SPEECH = ROOT / "tests" / "fixtures" / "speech"
ARTIFACTS = Path(os.environ.get("VOXIFY_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "studio"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PASSWORD = "Studio-pass-123"
TEXT = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well."
)


@pytest.fixture(scope="module")
def browser_paths() -> tuple[str, str]:
    if CHROMIUM and CHROMEDRIVER:
        return CHROMIUM, CHROMEDRIVER
    reason = (
        "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
    )
    if os.environ.get("VOXIFY_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def url(make_services: Callable[..., Services]) -> Iterator[str]:
    with serve_over_loopback(make_services(syntheses_per_day=200)) as address:
        yield address


@pytest.fixture
def browser(browser_paths: tuple[str, str], tmp_path: Path) -> Iterator[Any]:
    binary, driver_path = browser_paths
    # The fake microphone plays a real recording (Chromium loops a WAV file as its capture).
    microphone = tmp_path / "microphone.wav"
    audio, rate = sf.read(SPEECH / "librivox_male_0870.wav", dtype="int16")
    sf.write(microphone, audio, rate, subtype="PCM_16")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=webdriver.ChromeService(driver_path), options=options)
    driver.implicitly_wait(0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The studio as a person sees it: find, type, click, wait, and a screenshot per step."""

    def __init__(self, driver: Any, url: str, name: str) -> None:
        self.driver = driver
        self.url = url
        self.name = name
        self.shots = 0

    def open(self) -> None:
        self.driver.get(self.url + "/")
        self.wait(lambda: self.js("return document.body.dataset.ready") == "true")

    def find(self, css: str) -> Any:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def async_js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_async_script(script, *args)

    def wait(self, condition: Callable[[], Any], timeout: float = 120, message: str = "") -> Any:
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(
            lambda _: condition(), message
        )

    def texts(self, css: str) -> list[str]:
        """The text of every match, read in one step (lists re-render while they update)."""
        return list(
            self.js(
                "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent)", css
            )
        )

    def text(self, css: str) -> str:
        """The first match's text ('' when there is none), read in one step."""
        return str(
            self.js(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", css
            )
        )

    def attr(self, css: str, name: str) -> str | None:
        """An attribute of the first match, read in one step."""
        return self.js(  # type: ignore[no-any-return]
            "const e = document.querySelector(arguments[0]);"
            "return e ? e.getAttribute(arguments[1]) : null",
            css,
            name,
        )

    def visible(self, css: str) -> bool:
        return any(element.is_displayed() for element in self.all(css))

    def type(self, css: str, text: str) -> None:
        element = self.find(css)
        element.clear()
        element.send_keys(text)

    def click(self, css: str) -> None:
        """Click the current match (a list may re-render between finding and clicking)."""

        def clicked() -> bool:
            try:
                self.find(css).click()
            except StaleElementReferenceException:
                return False
            return True

        self.wait(clicked, 10, f"could not click {css}")

    def nav(self, view: str) -> None:
        self.click(f'#nav button[data-view="{view}"]')
        self.wait(lambda: self.js("return document.body.dataset.view") == view)

    def notice(self) -> str:
        return str(self.find("#notice-text").text) if self.visible("#notice") else ""

    def shot(self, name: str) -> None:
        self.shots += 1
        self.driver.save_screenshot(str(ARTIFACTS / f"{self.name}-{self.shots:02d}-{name}.png"))

    def register(self, email: str, first_name: str) -> None:
        self.click("#show-register")
        self.type("#register-first", first_name)
        self.type("#register-last", "Tester")
        self.type("#register-email", email)
        self.type("#register-password", PASSWORD)
        self.click("#register-form button[type=submit]")
        self.wait(lambda: self.visible("#nav"), message="not signed in after registering")

    def download(self, selector: str) -> Path:
        """Click a download link as a person would; the file the browser saved."""
        folder: Path = self.driver.downloads
        before = set(folder.iterdir())
        self.click(selector)

        def saved() -> Path | None:
            new = [
                path
                for path in set(folder.iterdir()) - before
                if not path.name.startswith(".") and not path.name.endswith(".crdownload")
            ]  # Chromium writes a hidden temporary file first, then renames it
            return new[0] if new else None

        return Path(self.wait(saved, 30, "nothing was downloaded"))

    def console_errors(self) -> list[str]:
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            # A refused request (the bad upload's 400) is logged too; scripts must not fail.
            if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
        ]


def upload_error(url: str, token: str, content: bytes, filename: str) -> str:
    response = httpx.post(
        url + "/api/v1/voice/samples",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": (filename, content, "audio/wav")},
    )
    assert 400 <= response.status_code < 500, response.text
    return str(response.json()["error"]["message"])


def test_workflow_2_in_the_studio(browser: Any, url: str) -> None:
    page = Page(browser, url, "workflow2")
    page.open()
    assert page.visible("#sign-in-form") and not page.visible("#nav")
    page.shot("sign-in")

    # Register → signed in (the account form signs in right after).
    page.register("studio-a@example.com", "Ada")
    assert "Ada" in page.text("#who")
    page.shot("signed-in")

    # A bad upload shows the server's own message.
    page.nav("clone")
    bad = ARTIFACTS / "not-audio.wav"
    bad.write_bytes(b"this is not a recording" * 50)
    page.find("#upload-file").send_keys(str(bad))
    page.click("#upload-go")
    page.wait(lambda: page.notice(), 30, "no message for a bad upload")
    token = page.js("return JSON.parse(sessionStorage.getItem('voxify.session')).access_token")
    expected = upload_error(url, token, bad.read_bytes(), bad.name)
    assert page.notice() == expected
    page.shot("bad-upload")

    # Upload a real recording: it is checked and the report shown.
    page.find("#upload-file").send_keys(str(SPEECH / "librivox_male_0920.wav"))
    page.click("#upload-go")
    page.wait(lambda: page.all("#samples-list [data-sample-id]"), 30, "sample not listed")
    page.wait(
        lambda: "ready" in page.text("#samples-list [data-sample-id] .state"),
        120,
        "sample not processed",
    )
    row = page.text("#samples-list [data-sample-id]")
    assert "quality" in row and "/ 10" in row
    page.shot("sample-ready")

    # Record a second sample with the (fake) microphone through MediaRecorder.
    page.click("#record-go")
    page.wait(lambda: "Recording" in page.text("#record-time"), 10, "not recording")
    page.wait(lambda: "5 s" in page.text("#record-time"), 20, "recording did not run")
    page.shot("recording")
    page.click("#record-go")
    page.wait(lambda: len(page.texts("#samples-list [data-sample-id]")) == 2, 60, "not listed")
    page.wait(
        lambda: all("ready" in s for s in page.texts("#samples-list [data-sample-id] .state")),
        120,
        "recorded sample not processed",
    )
    page.shot("two-samples")

    # Clone with live progress.
    page.type("#clone-name", "Studio voice")
    page.click("#clone-go")
    page.wait(lambda: page.visible("#clone-progress"), 30, "no progress bar")
    seen = set()

    def progressed() -> bool:
        seen.add(page.text("#clone-status"))
        return "is ready" in page.text("#clone-status")

    page.wait(progressed, 300, "clone did not finish")
    assert any("%" in status for status in seen), seen  # progress was shown while it ran
    page.shot("clone-ready")

    # A second clone, cancelled while it trains.
    page.type("#clone-name", "Cancelled voice")
    page.click("#clone-go")
    page.wait(lambda: page.visible("#clone-cancel"), 30, "no cancel button")
    page.click("#clone-cancel")
    page.wait(lambda: "cancelled" in page.text("#clone-status"), 60, "not cancelled")
    page.wait(  # the list reloads after the status line says so
        lambda: page.texts("#clones-list [data-clone-id] .state") == ["cancelled", "ready"],
        30,
        "the cancelled clone is not listed as cancelled",
    )
    page.shot("clone-cancelled")

    # Speak with the clone: streamed, then playable and downloadable.
    ready = "#clones-list [data-clone-id]:has(button.primary)"
    clone_id = page.attr(ready, "data-clone-id")
    page.click(f"{ready} button.primary")
    page.wait(lambda: page.js("return document.body.dataset.view") == "speak")
    page.wait(lambda: page.js("return document.getElementById('speak-voice').value") == clone_id)
    page.type("#speak-text", TEXT)
    Select(page.find("#speak-format")).select_by_value("mp3")
    page.click("#speak-go")
    page.wait(lambda: page.visible("#speak-result"), 180, "no result")
    first = int(page.attr("#speak-form", "data-first-audio-ms") or -1)
    completed = int(page.attr("#speak-form", "data-completed-ms") or -1)
    assert first >= 0
    assert first < completed, (first, completed)  # audio started before the whole was rendered
    duration = page.async_js(
        """const done = arguments[arguments.length - 1];
        const audio = document.getElementById("speak-audio");
        if (audio.readyState >= 1) done(audio.duration);
        else audio.addEventListener("loadedmetadata", () => done(audio.duration));"""
    )
    assert duration > 3.0
    saved = page.download("#speak-download")
    assert saved.suffix == ".mp3"
    download = saved.read_bytes()
    assert download[:3] == b"ID3" or download[:2] in (b"\xff\xfb", b"\xff\xf3")
    samples, rate = _decode(download)
    assert abs(samples / rate - duration) < 0.2
    page.shot("spoken")

    # Phone width: nothing wider than the screen.
    page.driver.set_window_size(390, 844)
    assert page.js("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.shot("phone-width")
    assert page.console_errors() == []

    # Another user sees none of it.
    page.driver.set_window_size(1280, 1000)
    page.click("#sign-out")  # the page starts afresh: nothing of the account stays in it
    page.wait(lambda: page.notice() == "Signed out." and page.visible("#sign-in-form"))
    assert page.texts("#clones-list li") == [] and page.texts("#speak-voice option") == []
    page.register("studio-b@example.com", "Bea")
    page.nav("voices")
    Select(page.find("#filter-type")).select_by_value("custom")
    page.wait(lambda: "0 voice" in page.text("#voices-status"), 30, "custom voices listed")
    assert page.all("#voices-list .voice") == []
    page.nav("speak")
    page.wait(lambda: page.all("#speak-voice option"))
    assert clone_id not in page.js(
        "return [...document.querySelectorAll('#speak-voice option')].map((o) => o.value)"
    )
    page.shot("other-user")


def _decode(data: bytes) -> tuple[int, int]:
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        total = sum(frame.samples for frame in container.decode(stream))
        return total, stream.rate


def test_library_history_keys_and_silent_refresh(browser: Any, url: str) -> None:
    page = Page(browser, url, "library")
    page.open()
    page.register("studio-c@example.com", "Cy")

    # The library: filters narrow the list; a preview plays; a favorite sticks.
    page.nav("voices")
    page.wait(lambda: page.all("#voices-list .voice"), 30, "no voices listed")
    everything = page.wait(lambda: max(_count(page), 0))
    Select(page.find("#filter-gender")).select_by_value("female")
    page.wait(lambda: 0 < _count(page) < everything, 30, "gender filter did nothing")
    voice_id = page.attr("#voices-list .voice", "data-voice-id")
    card = f'#voices-list .voice[data-voice-id="{voice_id}"]'
    page.click(f"{card} button[aria-label^='Play a preview']")
    duration = page.async_js(
        """const done = arguments[arguments.length - 1];
        const audio = document.getElementById("preview-audio");
        const check = () =>
          audio.src && audio.duration > 0 ? done(audio.duration) : setTimeout(check, 100);
        check();"""
    )
    assert duration > 0.5
    page.click(f"{card} button.favorite")
    page.wait(lambda: page.attr(f"{card} button.favorite", "aria-pressed") == "true")
    page.click("#filter-favorite")
    page.wait(lambda: _count(page) == 1, 30, "favorites filter")
    assert page.attr("#voices-list .voice", "data-voice-id") == voice_id
    page.shot("library-favorite")

    # "Use" → Speak; a job rendered from the page lands in History, plays, downloads, deletes.
    page.find("#voices-list .voice button.primary").click()
    page.wait(lambda: page.js("return document.body.dataset.view") == "speak")
    page.wait(lambda: page.js("return document.getElementById('speak-voice').value") == voice_id)
    page.type("#speak-text", "A short line for the history list.")
    Select(page.find("#speak-format")).select_by_value("wav")
    page.click("#speak-job")
    page.wait(lambda: "Job started" in page.notice(), 30, "job not started")

    # Silent refresh: an access token that no longer works is replaced without a sign-in.
    page.js(
        "const s = JSON.parse(sessionStorage.getItem('voxify.session'));"
        "s.access_token = 'expired.' + s.access_token;"
        "sessionStorage.setItem('voxify.session', JSON.stringify(s));"
    )
    page.driver.refresh()
    page.wait(lambda: page.js("return document.body.dataset.ready") == "true")
    page.nav("history")

    page.wait(
        lambda: any("completed" in row for row in page.texts("#history-list li")),
        120,
        "job not completed in history",
    )
    assert page.visible("#nav") and not page.notice()
    page.type("#history-search", "history list")
    page.wait(lambda: len(page.texts("#history-list li")) == 1)
    page.type("#history-search", "nothing like this")
    page.wait(lambda: page.texts("#history-list li") == [], 30, "search did not filter")
    page.type("#history-search", "short line")
    page.wait(lambda: len(page.texts("#history-list li")) == 1)
    saved = page.download("#history-list li button:nth-of-type(2)")
    audio, rate = sf.read(saved)
    assert len(audio) / rate > 1.0
    page.shot("history")
    page.click("#history-list li button[aria-label^='Delete']")
    page.wait(lambda: page.texts("#history-list li") == [], 30, "not deleted")

    # API keys: shown once, listed, revoked.
    page.nav("keys")
    page.type("#key-name", "Home Assistant")
    page.click("#key-form button[type=submit]")
    page.wait(lambda: page.visible("#key-created"), 30, "key not shown")
    key = str(page.js("return document.getElementById('key-value').value"))
    assert key.startswith("vx_")
    listed = httpx.get(url + "/api/v1/voice/models", headers={"X-API-Key": key})
    assert listed.status_code == 200
    page.wait(lambda: len(page.texts("#keys-list li")) == 1, 30, "key not listed")
    assert key not in page.text("#keys-list")
    page.shot("api-key")
    page.click("#keys-list li button")
    page.wait(lambda: page.texts("#keys-list li") == [], 30, "key not revoked")
    assert httpx.get(url + "/api/v1/voice/models", headers={"X-API-Key": key}).status_code == 401

    # Keyboard: on a fresh page the skip link comes first. (Reloaded: Chromium starts the
    # next Tab from where a removed element was, so after the revoke it may leave the page.)
    page.open()
    page.find("body").send_keys("\ue004")  # Tab
    assert page.js("return document.activeElement.className") == "skip"
    assert page.console_errors() == []


def _count(page: Page) -> int:
    """Voices the list says it holds; -1 while it loads."""
    words = page.text("#voices-status").split()
    return int(words[0]) if words and words[0].isdigit() else -1


@pytest.fixture
def admin_url(make_services: Callable[..., Services]) -> Iterator[str]:
    with serve_over_loopback(make_services(admin_emails=["boss@example.com"])) as address:
        yield address


def test_administration_in_the_studio(browser: Any, admin_url: str) -> None:
    page = Page(browser, admin_url, "admin")
    page.open()
    page.register("worker@example.com", "Wes")
    assert not page.visible('#nav button[data-view="admin"]'), "a user sees the admin view"
    page.click("#sign-out")
    page.wait(lambda: page.visible("#sign-in-form"), 30, "not signed out")
    page.register("boss@example.com", "Bo")
    page.nav("admin")

    # The service at a glance: accounts and the pools as the server reports them.
    page.wait(lambda: "Synthesizer" in page.texts("#admin-pools td"), 30, "no pools shown")
    assert "2 (2 active, 0 disabled, 1 admins)" in page.texts("#admin-stats dd")

    # A runtime limit, saved and shown back; the server refuses a bad one with its message.
    page.wait(lambda: page.js("return document.getElementById('limit-max_sync_text_chars').value"))
    page.type("#limit-max_sync_text_chars", "500")
    page.click("#admin-config button[type=submit]")
    page.wait(lambda: page.text("#admin-config-note") == "Limits saved.", 30, "limits not saved")
    page.type("#limit-requests_per_minute", "0")
    page.click("#admin-config button[type=submit]")
    page.wait(lambda: "requests_per_minute" in page.notice(), 30, "bad limit not refused")
    page.type("#limit-requests_per_minute", "100")

    # An account found by search, disabled, given its own quota.
    page.type("#admin-users-search", "worker")
    page.find("#admin-users-search").send_keys("\n")
    page.wait(lambda: len(page.all("#admin-users-list > li")) == 1, 30, "search found nothing")
    row = "#admin-users-list > li"
    page.click(f"{row} > button:nth-of-type(1)")
    page.wait(lambda: page.attr(row, "data-state") == "disabled", 30, "not disabled")
    quota = f"{row} input[name=syntheses_per_day]"
    page.type(quota, "5")
    page.click(f"{row} form button[type=submit]")
    value = "return document.querySelector(arguments[0]).value"
    page.wait(lambda: page.js(value, quota) == "5", 30, "quota not kept")

    # Every change is in the audit log, newest first.
    page.wait(lambda: len(page.all("#admin-audit-list > li")) == 3, 30, "audit log incomplete")
    actions = [t.split()[0] for t in page.texts("#admin-audit-list > li .grow")]
    assert actions == ["user.update", "user.update", "config.update"]
    page.shot("admin")
    assert page.console_errors() == []
