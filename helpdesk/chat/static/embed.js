/*
 * Embeds the helpdesk chat in any page with one tag:
 *   <script src="https://help.example.com/chat/embed.js" async></script>
 * Options, as attributes of that tag (docs/install.md, "Embedding the chat"):
 *   data-lang="de"          the chat's language (else the browser's, if the deployment serves it)
 *   data-position="left"    the launcher's corner: "right" (default) or "left"
 *   data-label="Help"       a text next to the launcher's icon
 *   data-open="true"        open the chat when the page loads (without moving the focus)
 * The launcher's colours and the chat's title are the deployment's (config/deployment.yml,
 * chat.colors and chat.title): the web service fills them in below when it serves this file.
 *
 * Adds a launcher button in a shadow root (the host page's CSS does not reach it) that
 * opens the chat page of the same origin (/chat) in an iframe, so the host page's styles
 * and scripts never mix with the chat. The iframe gets the host page's origin; the two
 * talk by postMessage, each checking the other's origin and window: the chat asks to be
 * closed (its close button, Escape), the launcher asks it to focus its input. Closed,
 * the focus goes back to the launcher. On a narrow screen the chat fills the visible part
 * of the page (the visual viewport), so the input stays above the on-screen keyboard.
 * Styles are set through the DOM (element.style), which a host page's Content-Security-
 * Policy without 'unsafe-inline' allows.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src || document.getElementById("helpdesk-chat")) return;

  var CONFIG = /*config*/{"primary": "#1f4e8c", "onPrimary": "#ffffff", "languages": ["de", "en"], "titles": {}}/*config*/;
  var TEXTS = {
    en: { title: "Help chat", close: "Close chat" },
    de: { title: "Hilfe-Chat", close: "Chat schließen" }
  };
  var NARROW = "(max-width: 480px)";
  var SVG = "http://www.w3.org/2000/svg";  // a namespace name, never fetched
  var ICONS = {
    chat: "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9.4l-4.7 3.8A1 1 0 0 1 3 21v-3.2A2 2 0 0 1 2 16V5a2 2 0 0 1 2-2z" +
      "m3 6a1.3 1.3 0 1 0 0 2.6A1.3 1.3 0 0 0 7 9zm5 0a1.3 1.3 0 1 0 0 2.6A1.3 1.3 0 0 0 12 9zm5 0a1.3 1.3 0 1 0 0 2.6" +
      "A1.3 1.3 0 0 0 17 9z",
    close: "M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 1 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 " +
      "4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z"
  };

  // https://help.example.com/chat/embed.js -> https://help.example.com/chat (scheme and any path prefix kept)
  var chatUrl = script.src.replace(/\/embed\.js(?:[?#].*)?$/, "");
  var helpdeskOrigin = new URL(chatUrl).origin;
  var option = function (name) { return (script.getAttribute("data-" + name) || "").trim(); };
  var languages = CONFIG.languages && CONFIG.languages.length ? CONFIG.languages : ["en"];
  var lang = pickLanguage(option("lang").toLowerCase());
  var texts = TEXTS[lang] || TEXTS.en;
  var title = (CONFIG.titles && CONFIG.titles[lang]) || texts.title;
  var side = option("position").toLowerCase() === "left" ? "left" : "right";
  var label = option("label");
  var openOnLoad = script.hasAttribute("data-open") && !/^(false|0|no)$/i.test(option("open"));

  function pickLanguage(wanted) {
    if (languages.indexOf(wanted) >= 0) return wanted;
    var browser = navigator.languages || [navigator.language || ""];
    for (var i = 0; i < browser.length; i++) {
      var base = String(browser[i]).toLowerCase().split("-")[0];
      if (languages.indexOf(base) >= 0) return base;
    }
    return languages[0];
  }

  function style(el, values) {
    for (var key in values) if (Object.prototype.hasOwnProperty.call(values, key)) el.style.setProperty(key, values[key]);
  }

  function icon(name) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    style(svg, { display: "block", "flex-shrink": "0" });
    return svg;
  }

  // ------------------------------------------------------------ launcher
  var host = document.createElement("div");
  host.id = "helpdesk-chat";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var button = document.createElement("button");
  button.id = "helpdesk-chat-launcher";
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  if (label) {
    var text = document.createElement("span");
    text.textContent = label;
    button.appendChild(icon("chat"));
    button.appendChild(text);
  } else {
    button.setAttribute("aria-label", title);
    button.appendChild(icon("chat"));
  }
  style(button, {
    position: "fixed", bottom: "1rem", "z-index": "2147483646",
    display: "inline-flex", "align-items": "center", "justify-content": "center", gap: ".5rem",
    "box-sizing": "border-box", height: "3.5rem", "min-width": "3.5rem", margin: "0",
    padding: label ? "0 1.25rem 0 1rem" : "0", border: "0", "border-radius": "1.75rem",
    background: CONFIG.primary, color: CONFIG.onPrimary, cursor: "pointer",
    font: "600 1rem/1.2 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "letter-spacing": "normal", "text-transform": "none", "box-shadow": "0 2px 10px rgba(0, 0, 0, .3)"
  });
  button.style.setProperty(side, "1rem");
  root.appendChild(button);

  // ------------------------------------------------------------ the chat's frame
  var frame = null;
  var ready = false;       // the chat page said it listens
  var focusWanted = false; // focus the input once it listens

  function createFrame() {
    frame = document.createElement("iframe");
    frame.id = "helpdesk-chat-frame";
    frame.title = title;
    frame.src = chatUrl + "?embed=1&lang=" + encodeURIComponent(lang) +
      (/^https?:\/\//.test(window.location.origin) ? "&host=" + encodeURIComponent(window.location.origin) : "");
    style(frame, {
      position: "fixed", "z-index": "2147483647", border: "0", margin: "0", padding: "0",
      background: "#fff", "box-shadow": "0 4px 18px rgba(0, 0, 0, .3)", "box-sizing": "border-box"
    });
    root.appendChild(frame);
    button.setAttribute("aria-controls", frame.id);
    place();
  }

  /** Desktop: a panel above the launcher. Narrow screen: the whole visible part of the page. */
  function place() {
    if (!frame) return;
    var viewport = window.visualViewport;
    if (window.matchMedia && window.matchMedia(NARROW).matches) {
      style(frame, {
        top: (viewport ? viewport.offsetTop : 0) + "px", left: (viewport ? viewport.offsetLeft : 0) + "px",
        right: "auto", bottom: "auto", "border-radius": "0",
        width: (viewport ? viewport.width : window.innerWidth) + "px",
        height: (viewport ? viewport.height : window.innerHeight) + "px"
      });
    } else {
      style(frame, {
        top: "auto", bottom: "5.5rem", left: "auto", right: "auto", "border-radius": ".75rem",
        width: "min(26rem, calc(100vw - 2rem))", height: "min(40rem, calc(100vh - 7rem))"
      });
      frame.style.setProperty(side, "1rem");
    }
  }

  function isOpen() {
    return !!frame && frame.style.display !== "none";
  }

  function tellChat(what) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage({ helpdeskChat: what }, helpdeskOrigin);
  }

  function focusChat() {
    focusWanted = false;
    frame.focus();
    tellChat("focus");
  }

  function open(moveFocus) {
    if (!frame) createFrame();
    frame.style.display = "block";
    place();
    button.setAttribute("aria-expanded", "true");
    button.replaceChild(icon("close"), button.firstChild);
    if (!label) button.setAttribute("aria-label", texts.close);
    if (moveFocus) {
      if (ready) focusChat(); else focusWanted = true;
    }
  }

  function close() {
    if (!isOpen()) return;
    frame.style.display = "none";
    button.setAttribute("aria-expanded", "false");
    button.replaceChild(icon("chat"), button.firstChild);
    if (!label) button.setAttribute("aria-label", title);
    button.focus();
  }

  button.addEventListener("click", function () {
    if (isOpen()) close(); else open(true);
  });
  // Escape on the launcher closes too (in the chat, the chat page sends "close").
  button.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && isOpen()) {
      e.preventDefault();
      close();
    }
  });
  window.addEventListener("message", function (e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== helpdeskOrigin) return;
    var data = e.data;
    if (!data || typeof data !== "object") return;
    if (data.helpdeskChat === "ready") {
      ready = true;
      if (focusWanted && isOpen()) focusChat();
    } else if (data.helpdeskChat === "close") {
      close();
    }
  });
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", place);
    window.visualViewport.addEventListener("scroll", place);
  }
  window.addEventListener("resize", place);

  function start() {
    document.body.appendChild(host);
    if (openOnLoad) open(false);
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
