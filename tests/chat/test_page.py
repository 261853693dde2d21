"""The chat page as HTTP: served with a strict CSP, config escaped, static files
from a fixed list only, the vendored socket.io client unchanged and licensed."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from helpdesk.chat.config import ChatConfig
from helpdesk.chat.router import STATIC_DIR, router


def make_client(config: ChatConfig | None = None) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    if config is not None:
        app.state.chat_config = config
    return TestClient(app)


def page_config(html: str) -> dict:
    match = re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, html
    return json.loads(match.group(1))


def test_page_derives_rasa_url_from_the_page_host_by_default():
    response = make_client(ChatConfig()).get("/chat", headers={"host": "helpdesk.example:8000"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    config = page_config(response.text)
    assert config["rasaUrl"] == "http://helpdesk.example:5005"
    assert config["apiBase"] == "/chat/api"  # root-relative: the page's own scheme, also behind a TLS proxy
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "connect-src 'self' http://helpdesk.example:5005 ws://helpdesk.example:5005" in csp


def test_public_rasa_url_from_environment():
    config = ChatConfig.from_env({"HELPDESK_RASA_PUBLIC_URL": "https://bot.example/", "HELPDESK_RASA_TOKEN": "t"})
    assert config.rasa_public_url == "https://bot.example" and config.rasa_token == "t"
    response = make_client(config).get("/chat")
    assert page_config(response.text)["rasaUrl"] == "https://bot.example"
    assert "wss://bot.example" in response.headers["content-security-policy"]


def test_the_message_limit_is_the_one_rasa_reads():
    assert page_config(make_client(ChatConfig()).get("/chat").text)["maxMessageChars"] == 8000
    lowered = ChatConfig.from_env({"HELPDESK_BOT_MAX_MESSAGE_CHARS": "3000"})
    assert page_config(make_client(lowered).get("/chat").text)["maxMessageChars"] == 3000
    for wrong in ("0", "8001"):  # over 8,000 a ticket would not keep the message whole
        with pytest.raises(ValueError, match="HELPDESK_BOT_MAX_MESSAGE_CHARS"):
            ChatConfig.from_env({"HELPDESK_BOT_MAX_MESSAGE_CHARS": wrong})


def test_lang_parameter_is_validated_and_config_is_escaped():
    client = make_client(ChatConfig())
    assert page_config(client.get("/chat?lang=de").text)["lang"] == "de"
    html = client.get("/chat", params={"lang": "</script><script>alert(1)</script>"}).text
    assert page_config(html)["lang"] is None
    assert "<script>alert(1)" not in html


def test_no_resource_comes_from_another_origin():
    html = make_client(ChatConfig()).get("/chat").text
    resources = re.findall(r'<(?:script|img)[^>]* src="([^"]+)"|<link[^>]* href="([^"]+)"', html)
    assert len(resources) >= 4
    for url in (a or b for a, b in resources):  # the company's own links (<a>) may go anywhere
        # Root-relative: the page's own origin and scheme (https behind a TLS proxy, too).
        assert url.startswith("/chat/"), url


def test_static_files_come_from_a_fixed_list():
    client = make_client()
    for name in ("chat.js", "chat.css", "vendor/socket.io.min.js", "vendor/socket.io-client.LICENSE.txt"):
        response = client.get(f"/chat/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/chat/static/chat.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/chat/embed.js").text.startswith("/*")
    assert client.get("/chat/embed.js").headers["content-type"].startswith("text/javascript")
    for name in ("../router.py", "..%2Frouter.py", "templates/chat.html", "nope.js", "vendor/README.txt/x"):
        assert client.get(f"/chat/static/{name}").status_code == 404, name


def test_vendored_socket_io_matches_its_readme_and_has_its_licence():
    readme = (STATIC_DIR / "vendor" / "README.txt").read_text()
    digest = re.search(r"sha256:\s+([0-9a-f]{64})", readme).group(1)
    version = re.search(r"socket.io-client (\d+\.\d+\.\d+)", readme).group(1)
    script = (STATIC_DIR / "vendor" / "socket.io.min.js").read_bytes()
    assert hashlib.sha256(script).hexdigest() == digest
    assert f"Socket.IO v{version}" in script[:200].decode()
    licence = (STATIC_DIR / "vendor" / "socket.io-client.LICENSE.txt").read_text()
    assert "MIT License" in licence and "Guillermo Rauch" in licence


def test_page_script_never_parses_received_html():
    source = (STATIC_DIR / "chat.js").read_text()
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)  # the header comment names the sinks
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink


def test_embed_script_carries_the_deployments_colours_languages_and_titles():
    from helpdesk.deployment import load_deployment

    deployment = load_deployment(
        env={"HELPDESK_CHAT_PRIMARY_COLOR": "#7a1f5c", "HELPDESK_LANGUAGES": "en", "HELPDESK_CHAT_TITLE": "Ask <us>"}
    )
    client = make_client(ChatConfig())
    client.app.state.deployment = deployment
    script = client.get("/chat/embed.js").text
    match = re.search(r"var CONFIG = /\*config\*/(.*?)/\*config\*/;", script)
    assert match, script[:2000]
    assert json.loads(match.group(1)) == {
        "primary": "#7a1f5c",
        "onPrimary": "#ffffff",
        "languages": ["en"],
        "titles": {"en": "Ask <us>"},
    }
    assert "<us>" not in script  # escaped as \u003c, like the page's own config
    assert "http:" not in re.sub(r'"http://www.w3.org/2000/svg"', "", script)  # the page's scheme, never a fixed one


def test_the_page_gets_the_way_to_a_person_and_the_embedding_origin():
    client = make_client(ChatConfig())
    config = page_config(client.get("/chat").text)
    assert config["support"] == {"hotline": "0800 123 4567", "tel": "08001234567", "email": "support@nordwind.example"}
    assert config["strings"]["de"]["hours"] == "rund um die Uhr" and config["strings"]["en"]["hours"] == "24/7"
    assert config["hostOrigin"] is None and 'id="chat-close"' not in client.get("/chat").text
    embedded = client.get("/chat", params={"embed": "1", "host": "https://www.example.com:8443"})
    assert page_config(embedded.text)["hostOrigin"] == "https://www.example.com:8443"
    assert 'id="chat-close"' in embedded.text  # only in the iframe: it tells the embedding page
    for wrong in ("*", "null", "javascript:alert(1)", "https://x.example/path", 'https://x.example"><b>'):
        html = client.get("/chat", params={"embed": "1", "host": wrong}).text
        assert page_config(html)["hostOrigin"] is None, wrong
    assert page_config(client.get("/chat", params={"host": "https://x.example"}).text)["hostOrigin"] is None
