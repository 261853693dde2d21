"""The customer chat page: ``GET /chat``, its static files and ``/chat/embed.js``.

``router`` also carries the live-takeover routes of ``live_api``, so the app
includes one router for the whole chat.

The page talks to Rasa's socket.io channel directly from the browser; this
module only serves it. ``/chat/embed.js`` lets another site embed the chat
with one script tag (it adds a launcher button and an iframe of ``/chat``); it is
served with the deployment's colours, languages and chat titles filled in
(``embed_script``), so it needs no request of its own. The iframe's page learns
the embedding page's origin (``?host=``) so that the two can talk by
``postMessage``, each checking the other's origin (close, focus).
Static files are served from a fixed list read at import, so no request path
ever reaches the file system. The company's branding comes from the deployment
configuration (helpdesk/deployment.py): the page's title, the assistant's name,
the languages offered, the privacy-policy link, ``/chat/brand.css`` (its
colours as CSS variables that chat.css uses) and ``/chat/brand/logo``. The page sends a Content-Security-Policy that
allows scripts and styles from this origin only and connections to this
origin and Rasa.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from helpdesk.attachments.api import page_settings as attachments_page_settings
from helpdesk.chat.config import ChatConfig, get_chat_config
from helpdesk.chat.live_api import router as live_router
from helpdesk.deployment import LOGO_TYPES, Deployment, get_deployment

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain", ".svg": "image/svg+xml"}
STATIC_FILES = {
    path.relative_to(STATIC_DIR).as_posix(): path
    for path in STATIC_DIR.rglob("*")
    if path.is_file() and path.suffix in MEDIA_TYPES
}
LANGUAGES = ("de", "en")
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
# The page's texts that name the deployment's assistant ({assistant}); chat.js has the rest.
ASSISTANT_STRINGS = {
    "en": {"typing": "{assistant} is typing…", "privacy": "Privacy policy", "contact": "Contact"},
    "de": {"typing": "{assistant} schreibt…", "privacy": "Datenschutz", "contact": "Kontakt"},
}

# An origin as a browser writes it (location.origin): scheme, host, optional port; nothing else.
ORIGIN_RE = re.compile(r"^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
# The line of embed.js the web service fills in with the deployment's values.
EMBED_CONFIG_RE = re.compile(r"/\*config\*/.*?/\*config\*/", re.S)

router = APIRouter(tags=["chat"])
router.include_router(live_router)  # /chat/api/... and the agent's /agent/handoffs/{id}/live/...
templates = Jinja2Templates(directory=HERE / "templates")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_policy(rasa_url: str) -> str:
    rasa = _origin(rasa_url)
    ws = rasa.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {rasa} {ws}",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
            # Embeddable in any site through /chat/embed.js.
            "frame-ancestors *",
        ]
    )


def branded_strings(deployment: Deployment) -> dict[str, dict[str, str]]:
    """Per language, the page texts the deployment sets (chat.js prefers them to its own)."""
    return {
        lang: {
            "title": deployment.chat_title(lang),
            "bot": deployment.assistant,
            **{k: v.format(assistant=deployment.assistant) for k, v in ASSISTANT_STRINGS[lang].items()},
            **({"hours": deployment.text(deployment.support.hours, lang) or ""} if deployment.support.hours else {}),
        }
        for lang in LANGUAGES
    }


def support_contact(deployment: Deployment) -> dict[str, str | None]:
    """The way to a person that the page shows when the chat is unavailable (support.* of the deployment)."""
    hotline = deployment.support.hotline
    return {
        "hotline": hotline,
        "tel": re.sub(r"[^0-9+]", "", hotline) if hotline else None,
        "email": deployment.support.email,
    }


def host_origin(value: str | None) -> str | None:
    """The embedding page's origin as embed.js passes it (``?host=``), or None when it is not one."""
    return value if value and len(value) <= 300 and ORIGIN_RE.match(value) else None


@router.get("/chat", response_class=HTMLResponse, summary="Customer chat page")
def chat_page(
    request: Request,
    lang: str | None = None,
    embed: bool = False,
    host: str | None = None,
    config: ChatConfig = Depends(get_chat_config),
    deployment: Deployment = Depends(get_deployment),
):
    rasa_url = config.public_rasa_url(request)
    served = list(deployment.languages)
    chosen = lang if lang in served else (served[0] if len(served) == 1 else None)
    page_config = {
        "rasaUrl": rasa_url,
        # Root-relative: right on an https page even when a proxy in front does not say so.
        "apiBase": request.url_for("chat_page").path.rstrip("/") + "/api",
        "lang": chosen,
        "embed": embed,
        # Where the embedding page is (embed.js passes it): the only origin postMessage talks to.
        "hostOrigin": host_origin(host) if embed else None,
        "languages": served,
        "strings": branded_strings(deployment),
        "support": support_contact(deployment),
        "maxMessageChars": config.max_message_chars,
        # The paperclip's upload (helpdesk/attachments/api.py); None: the page offers no attachments.
        "attachments": attachments_page_settings(request),
    }
    page_lang = chosen or deployment.default_language
    response = templates.TemplateResponse(
        request,
        "chat.html",
        {
            "config": page_config,
            "lang": page_lang,
            "title": deployment.chat_title(page_lang),
            "languages": [(code, LANGUAGE_NAMES[code]) for code in served],
            "company": deployment.company,
            "has_logo": deployment.logo_path() is not None,
            "website": deployment.urls.website,
            "privacy_url": deployment.urls.privacy_policy,
            "contact_url": deployment.urls.contact,
        },
    )
    response.headers["Content-Security-Policy"] = page_policy(rasa_url)
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/chat/brand.css", include_in_schema=False)
def brand_css(deployment: Deployment = Depends(get_deployment)) -> Response:
    colors = deployment.chat.colors  # validated "#rrggbb" values: nothing else reaches the CSS
    css = (
        f":root {{ --brand-primary: {colors.primary}; --brand-on-primary: {colors.on_primary}; "
        f"--brand-background: {colors.background}; }}\n"
    )
    return Response(
        css,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/chat/brand/logo", include_in_schema=False)
def brand_logo(deployment: Deployment = Depends(get_deployment)) -> FileResponse:
    path = deployment.logo_path()
    if path is None or not path.is_file():
        raise HTTPException(404, "no logo configured")
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    if path.suffix.lower() == ".svg":
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"  # no script in an SVG
    return FileResponse(path, media_type=LOGO_TYPES[path.suffix.lower()], headers=headers)


def embed_config(deployment: Deployment) -> dict:
    """What embed.js needs of the deployment: the launcher's colours, the languages, the chat's titles."""
    colors = deployment.chat.colors  # validated "#rrggbb" values, contrast checked
    return {
        "primary": colors.primary,
        "onPrimary": colors.on_primary,
        "languages": list(deployment.languages),
        "titles": {lang: deployment.chat_title(lang) for lang in deployment.languages},
    }


@router.get("/chat/embed.js", include_in_schema=False)
def embed_script(deployment: Deployment = Depends(get_deployment)) -> Response:
    source = STATIC_FILES["embed.js"].read_text(encoding="utf-8")
    # JSON is a JavaScript expression; "<" is escaped as elsewhere, though this is no HTML.
    values = json.dumps(embed_config(deployment), ensure_ascii=False).replace("<", "\\u003c")
    source = EMBED_CONFIG_RE.sub(lambda _: f"/*config*/{values}/*config*/", source, count=1)
    return Response(
        source,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/chat/static/{name:path}", include_in_schema=False)
def static_file(name: str):
    return _static(name, max_age=300)


def _static(name: str, max_age: int) -> FileResponse:
    path = STATIC_FILES.get(name)
    if path is None:
        raise HTTPException(404, "no such file")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": f"public, max-age={max_age}", "X-Content-Type-Options": "nosniff"},
    )
