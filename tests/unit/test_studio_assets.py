"""The studio as files and headers (no browser): served at /, strict CSP, no inline script,
every referenced asset and module present, the API's paths unchanged, and the POST stream's
event form that the page plays from."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from tests.unit.conftest import register_and_login
from voxify.api.studio import STUDIO_DIR


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def test_page_is_served_with_strict_headers(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    script = client.get("/studio/js/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["content-security-policy"] == policy


def test_api_paths_and_envelope_unchanged(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["success"] is False
    assert missing.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in missing.headers
    assert client.get("/studio/no-such-file.js").status_code == 404
    assert client.get("/api/v1/health").status_code == 200


def test_markup_has_no_inline_code_and_every_asset_exists() -> None:
    page = _Tags()
    page.feed((STUDIO_DIR / "index.html").read_text())
    assert not page.inline_script
    referenced = []
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)  # no handlers
        assert "style" not in attrs, (tag, attrs)  # CSP: style-src 'self'
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            if value.startswith("/studio/"):
                referenced.append(value.removeprefix("/studio/"))
            assert not value.startswith(("http:", "https:", "//")), value  # nothing third-party
    assert "js/main.js" in referenced and "studio.css" in referenced
    for path in referenced:
        assert (STUDIO_DIR / path).is_file(), path
    ids = set(re.findall(r'id="([^"]+)"', (STUDIO_DIR / "index.html").read_text()))
    for module in (STUDIO_DIR / "js").glob("*.js"):
        source = module.read_text()
        for imported in re.findall(r'from "\./([^"]+)"', source):
            assert (STUDIO_DIR / "js" / imported).is_file(), (module.name, imported)
        for wanted in re.findall(r'\$\("([^"]+)"\)', source):
            assert wanted in ids, (module.name, wanted)  # every element a module uses exists
        assert "http://" not in source and "https://" not in source, module.name


def test_post_stream_answers_events_when_asked(client: TestClient) -> None:
    headers = register_and_login(client, "events@example.com")
    body = {"text": "One sentence. And another one.", "format": "mp3"}
    with client.stream(
        "POST",
        "/api/v1/tts/stream",
        json=body,
        headers={**headers, "Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            json.loads(line[len("data: ") :])
            for line in response.iter_lines()
            if line.startswith("data: ")
        ]
    kinds = [event["type"] for event in events]
    assert kinds[0] == "job_info" and kinds[-1] == "completed"
    chunks = [event for event in events if event["type"] == "audio_chunk"]
    assert len(chunks) == 2 and all(c["audio_url"].startswith("data:audio/mpeg") for c in chunks)
    stored = client.get(events[-1]["audio_path"], headers=headers)
    assert stored.status_code == 200 and stored.headers["content-type"] == "audio/mpeg"
    raw = client.post("/api/v1/tts/stream", json=body, headers=headers)  # no Accept: raw audio
    assert raw.headers["content-type"] == "audio/mpeg"
