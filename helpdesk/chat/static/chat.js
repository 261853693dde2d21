/*
 * Customer chat page of the helpdesk (served by the helpdesk web service at /chat).
 *
 * Talks to Rasa's socket.io channel (session_request/session_confirm,
 * user_uttered/bot_uttered) with a session id made here from 128 random bits
 * and kept in localStorage: it is the conversation's Rasa sender id, never shown
 * or sent elsewhere. At a handoff the bot sends the ticket's own chat key in a
 * custom message ({helpdesk_chat: {ticket_id, key}}); with it the page talks to
 * the web service's /chat/api/live/{key} for the ticket state and the live
 * messages between customer and agent, until the ticket is closed.
 *
 * A message may be as long as the server's limit (config.maxMessageChars, the
 * channels' HELPDESK_BOT_MAX_MESSAGE_CHARS), counted in characters as the server
 * counts them (code points). From 80 % of it a counter shows under the input; a
 * longer text (a paste) stays whole in the box, marked too long, and cannot be
 * sent until it fits: nothing is ever cut.
 *
 * Nothing received is ever put into innerHTML: bot markdown is parsed into
 * DOM nodes here (text nodes, a few inline tags, links with http(s)/mailto
 * only), so a message cannot inject markup.
 *
 * When the socket cannot connect (three failed tries, or no connection for
 * UNAVAILABLE_AFTER ms), the page says that the chat is unavailable and shows
 * the deployment's hotline and e-mail (config.support), and the console names
 * the cause and the setting: a probe of Rasa's socket.io path tells a refused
 * page origin (HELPDESK_CHAT_ORIGINS, Rasa's) from an unreachable Rasa
 * (HELPDESK_RASA_PUBLIC_URL, the web service's). It keeps trying, slowly.
 *
 * Inside the iframe of /chat/embed.js (config.hostOrigin, the embedding page's
 * origin) the header has a close button; it and Escape ask the embedding page
 * to close the chat, and the embedding page asks for the input's focus, by
 * postMessage to that origin only; messages from any other window or origin
 * are ignored.
 */
(function () {
  "use strict";

  var STRINGS = {
    en: {
      title: "Helpdesk chat", language: "Language", newConversation: "New conversation",
      inputLabel: "Your message", placeholder: "Type your question…", send: "Send",
      hint: "Enter sends, Shift+Enter starts a new line.",
      typing: "The assistant is typing…", noscript: "The chat needs JavaScript.",
      welcome: "Hello! Describe your problem in a few words and I will look for a solution. You can write in English or German.",
      you: "You", bot: "Assistant", agent: "Agent", system: "Notice",
      connecting: "Connecting…",
      offline: "Connection lost. Reconnecting… What you type is kept and sent when the connection is back.",
      pending: "(not sent yet)",
      ticketTitle: "A person will take over",
      ticketOpen: "Ticket {ticket}. Expected response: {expected}. You can keep writing here; if you leave, the ticket stays open and we will answer.",
      ticketLive: "Ticket {ticket}: {agent} is now talking to you.",
      liveStarted: "{agent} has joined the chat.",
      handedBack: "The agent handed the conversation back to the assistant.",
      closed: "The agent closed the conversation. Thank you!",
      anAgent: "An agent",
      close: "Close chat",
      unavailable: "The chat is unavailable right now.",
      unavailableContact: "Please contact us:",
      unavailableLater: "Please try again later.",
      contactPhone: "phone {hotline}",
      contactHours: "({hours})",
      contactEmail: "e-mail {email}",
      contactOr: "or",
      sendFailed: "Your message could not be sent. Please try again.",
      articleLink: "Open article: {title}",
      counter: "{count} / {limit}",
      counterStatus: "{count} of {limit} characters",
      tooLong: "Your message is too long ({count} characters; at most {limit}). Please shorten it or send it in several parts.",
      attach: "Attach a screenshot or PDF",
      attachHint: "You can also paste a screenshot into the message box.",
      attachTooLarge: "{name} is too large: at most {limit} MB per file.",
      attachType: "{name} cannot be sent: images (PNG, JPEG, WebP) and PDF are allowed.",
      attachFailed: "{name} was not sent: {reason}",
      attachNoNetwork: "the connection failed. Please try again."
    },
    de: {
      title: "Helpdesk-Chat", language: "Sprache", newConversation: "Neues Gespräch",
      inputLabel: "Ihre Nachricht", placeholder: "Ihre Frage…", send: "Senden",
      hint: "Eingabetaste sendet, Umschalt+Eingabetaste beginnt eine neue Zeile.",
      typing: "Der Assistent schreibt…", noscript: "Der Chat braucht JavaScript.",
      welcome: "Hallo! Beschreiben Sie Ihr Problem in wenigen Worten, ich suche nach einer Lösung. Sie können auf Deutsch oder Englisch schreiben.",
      you: "Sie", bot: "Assistent", agent: "Mitarbeiter", system: "Hinweis",
      connecting: "Verbinde…",
      offline: "Verbindung unterbrochen. Verbinde neu… Was Sie schreiben, bleibt erhalten und wird gesendet, sobald die Verbindung wieder steht.",
      pending: "(noch nicht gesendet)",
      ticketTitle: "Ein Mensch übernimmt",
      ticketOpen: "Ticket {ticket}. Erwartete Antwortzeit: {expected}. Sie können hier weiterschreiben; wenn Sie gehen, bleibt das Ticket offen und wir antworten.",
      ticketLive: "Ticket {ticket}: {agent} spricht jetzt mit Ihnen.",
      liveStarted: "{agent} ist dem Chat beigetreten.",
      handedBack: "Der Mitarbeiter hat das Gespräch an den Assistenten zurückgegeben.",
      closed: "Der Mitarbeiter hat das Gespräch beendet. Vielen Dank!",
      anAgent: "Ein Mitarbeiter",
      close: "Chat schließen",
      unavailable: "Der Chat ist gerade nicht erreichbar.",
      unavailableContact: "So erreichen Sie uns:",
      unavailableLater: "Bitte versuchen Sie es später noch einmal.",
      contactPhone: "Telefon {hotline}",
      contactHours: "({hours})",
      contactEmail: "E-Mail {email}",
      contactOr: "oder",
      sendFailed: "Ihre Nachricht konnte nicht gesendet werden. Bitte versuchen Sie es erneut.",
      articleLink: "Artikel öffnen: {title}",
      counter: "{count} / {limit}",
      counterStatus: "{count} von {limit} Zeichen",
      tooLong: "Ihre Nachricht ist zu lang ({count} Zeichen; höchstens {limit}). Bitte kürzen Sie sie oder senden Sie sie in mehreren Teilen.",
      attach: "Bildschirmfoto oder PDF anhängen",
      attachHint: "Sie können ein Bildschirmfoto auch in das Nachrichtenfeld einfügen.",
      attachTooLarge: "{name} ist zu groß: höchstens {limit} MB pro Datei.",
      attachType: "{name} kann nicht gesendet werden: erlaubt sind Bilder (PNG, JPEG, WebP) und PDF.",
      attachFailed: "{name} wurde nicht gesendet: {reason}",
      attachNoNetwork: "Die Verbindung ist fehlgeschlagen. Bitte versuchen Sie es erneut."
    }
  };
  var KEY = "helpdesk-chat.";
  var MAX_HISTORY = 300;
  var COUNTER_FROM = 0.8;     // share of the limit from which the counter shows
  var ANNOUNCE_AFTER = 800;   // ms of no typing before a screen reader hears the count
  var SESSION_RE = /^[0-9a-f]{32}$/;
  var FAILURES_BEFORE_UNAVAILABLE = 3;  // failed connection tries before the chat says it is unavailable
  var UNAVAILABLE_AFTER = 12000;       // ms without a connection (a try may hang) before it says so anyway
  var SLOW_RETRY = 30000;              // ms between tries once it said so

  // ---------------------------------------------------------------- storage
  var storage = {
    get: function (key, fallback) {
      try {
        var raw = window.localStorage.getItem(KEY + key);
        return raw === null ? fallback : JSON.parse(raw);
      } catch (e) { return fallback; }
    },
    set: function (key, value) {
      try { window.localStorage.setItem(KEY + key, JSON.stringify(value)); } catch (e) { /* private mode: session only */ }
    },
    remove: function (key) {
      try { window.localStorage.removeItem(KEY + key); } catch (e) { /* ignore */ }
    }
  };

  function newSessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
  }

  // ---------------------------------------------------------------- i18n
  /** A language the page has texts for and the deployment serves (config.languages, when set). */
  function served(lang) {
    var allowed = Array.isArray(config.languages) && config.languages.length ? config.languages : null;
    return !!(lang && STRINGS[lang] && (!allowed || allowed.indexOf(lang) >= 0));
  }

  function pickLanguage(explicit, stored, browserLanguages) {
    if (served(explicit)) return explicit;
    if (served(stored)) return stored;
    var langs = browserLanguages || [];
    for (var i = 0; i < langs.length; i++) {
      var base = String(langs[i]).toLowerCase().split("-")[0];
      if (served(base)) return base;
    }
    if (served("en")) return "en";
    return (config.languages || []).filter(served)[0] || "en";
  }

  function t(key, params) {
    // The deployment's own words (chat title, assistant name, …) win over the built-in ones.
    var own = ((config.strings || {})[state.lang] || {})[key];
    var text = own || (STRINGS[state.lang] || STRINGS.en)[key] || STRINGS.en[key] || key;
    return text.replace(/\{(\w+)\}/g, function (m, name) {
      return params && params[name] !== undefined ? String(params[name]) : m;
    });
  }

  // ---------------------------------------------------------------- markdown
  var INLINE = new RegExp([
    "(`[^`\\n]+`)",                                   // 1 code
    "(\\*\\*[^*\\n]+\\*\\*|__[^_\\n]+__)",            // 2 bold
    "(\\[([^\\]\\n]+)\\]\\(((?:[^()\\s]|\\([^()\\s]*\\))+)(?:\\s+\"[^\"\\n]*\")?\\))", // 3 link: 4 label, 5 url
    "(\\*[^*\\s][^*\\n]*\\*|_[^_\\s][^_\\n]*_)",      // 6 italic
    "(<?(https?:\\/\\/[^\\s<>]*[^\\s<>.,;:!?'\")\\]])>?)" // 7 bare url, 8 the url
  ].join("|"), "g");

  function safeHref(url) {
    try {
      var parsed = new URL(url, config.baseUrl || window.location.href);
      if (parsed.protocol === "http:" || parsed.protocol === "https:" || parsed.protocol === "mailto:") {
        return parsed.href;
      }
    } catch (e) { /* not a URL */ }
    return null;
  }

  function makeLink(href, labelNodes) {
    var a = document.createElement("a");
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    if (/\/articles\//.test(new URL(href).pathname)) a.className = "article-link";
    labelNodes.forEach(function (n) { a.appendChild(n); });
    return a;
  }

  function renderInline(text) {
    var nodes = [];
    var last = 0;
    var m;
    INLINE.lastIndex = 0;
    var matches = [];
    while ((m = INLINE.exec(text)) !== null) matches.push(m);
    matches.forEach(function (m) {
      if (m.index > last) nodes.push(document.createTextNode(text.slice(last, m.index)));
      last = m.index + m[0].length;
      var el;
      if (m[1]) {
        el = document.createElement("code");
        el.textContent = m[1].slice(1, -1);
      } else if (m[2]) {
        el = document.createElement("strong");
        renderInline(m[2].slice(2, -2)).forEach(function (n) { el.appendChild(n); });
      } else if (m[3]) {
        var href = safeHref(m[5]);
        if (href) {
          el = makeLink(href, renderInline(m[4]));
        } else {
          el = document.createTextNode(m[4]);
        }
      } else if (m[6]) {
        el = document.createElement("em");
        renderInline(m[6].slice(1, -1)).forEach(function (n) { el.appendChild(n); });
      } else if (m[7]) {
        var bare = safeHref(m[8]);
        el = bare ? makeLink(bare, [document.createTextNode(m[8])]) : document.createTextNode(m[0]);
      }
      nodes.push(el);
    });
    if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
    return nodes;
  }

  function appendLines(parent, lines) {
    lines.forEach(function (line, i) {
      if (i > 0) parent.appendChild(document.createElement("br"));
      renderInline(line).forEach(function (n) { parent.appendChild(n); });
    });
  }

  var TABLE_ROW = /^\s*\|.*\|\s*$/;
  var TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

  function tableCells(line) {
    return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map(function (c) { return c.trim(); });
  }

  /** A markdown table (an answer passage may be a table row under its header) as DOM. */
  function renderTable(lines) {
    var table = document.createElement("table");
    var body = document.createElement("tbody");
    var head = null;
    lines.forEach(function (line, i) {
      if (TABLE_RULE.test(line)) return;
      var isHead = i === 0 && lines.length > 1 && TABLE_RULE.test(lines[1]);
      var row = document.createElement("tr");
      tableCells(line).forEach(function (cell) {
        var el = document.createElement(isHead ? "th" : "td");
        renderInline(cell).forEach(function (n) { el.appendChild(n); });
        row.appendChild(el);
      });
      if (isHead) {
        head = document.createElement("thead");
        head.appendChild(row);
      } else {
        body.appendChild(row);
      }
    });
    if (head) table.appendChild(head);
    table.appendChild(body);
    return table;
  }

  /** Markdown (the subset bots write) to a DocumentFragment, without any HTML parsing. */
  function renderMarkdown(text) {
    var fragment = document.createDocumentFragment();
    var blocks = String(text == null ? "" : text).replace(/\r\n?/g, "\n").split(/\n{2,}/);
    blocks.forEach(function (block) {
      var lines = block.split("\n").filter(function (l) { return l.trim() !== ""; });
      if (!lines.length) return;
      if (lines.every(function (l) { return TABLE_ROW.test(l) || TABLE_RULE.test(l); })) {
        fragment.appendChild(renderTable(lines));
        return;
      }
      var bullet = /^\s*[-*•]\s+/;
      var number = /^\s*\d+[.)]\s+/;
      var list = null;
      var para = [];
      function flushPara() {
        if (!para.length) return;
        var p = document.createElement("p");
        appendLines(p, para);
        fragment.appendChild(p);
        para = [];
      }
      lines.forEach(function (line) {
        var kind = bullet.test(line) ? "ul" : number.test(line) ? "ol" : null;
        if (kind) {
          flushPara();
          if (!list || list.tagName.toLowerCase() !== kind) {
            list = document.createElement(kind);
            fragment.appendChild(list);
          }
          var li = document.createElement("li");
          appendLines(li, [line.replace(kind === "ul" ? bullet : number, "")]);
          list.appendChild(li);
        } else if (list && /^\s{2,}/.test(line)) {
          appendLines(list.lastChild, ["", line.trim()]);
        } else {
          list = null;
          para.push(line);
        }
      });
      flushPara();
    });
    return fragment;
  }

  // ---------------------------------------------------------------- state
  var config = JSON.parse(document.getElementById("chat-config").textContent || "{}");
  var state = {
    sessionId: null,
    lang: "en",
    history: [],
    outbox: [],
    socket: null,
    confirmed: false,
    ticket: null,        // {id, number, status, mode, expected_response, agent}
    chatKey: null,       // the ticket's chat key, from the bot's handoff message
    events: null,        // EventSource of the live part
    seen: {},            // live message ids already shown
    typingTimer: null,
    stateTimer: null,
    counterTimer: null,
    connection: null,    // the connection notice shown: null, "connecting", "offline" or "unavailable"
    failures: 0,         // connection tries failed since the last confirmed connection
    unavailable: null,   // why the socket cannot connect: "origin", "unreachable", "failing"; null while it may
    unavailableTimer: null,
    previews: {}         // local id -> data: URL of an image being attached (shown, never stored)
  };
  var els = {};

  function loadSession() {
    var sid = storage.get("session", null);
    if (typeof sid !== "string" || !SESSION_RE.test(sid)) {
      sid = newSessionId();
      storage.set("session", sid);
    }
    state.sessionId = sid;
    state.history = storage.get("history." + sid, []);
    state.outbox = storage.get("outbox." + sid, []);
    state.ticket = storage.get("ticket." + sid, null);
    state.chatKey = storage.get("chatkey." + sid, null);
    state.history.forEach(function (item) { if (item.key) state.seen[item.key] = true; });
  }

  function saveHistory() {
    if (state.history.length > MAX_HISTORY) state.history = state.history.slice(-MAX_HISTORY);
    storage.set("history." + state.sessionId, state.history);
    storage.set("outbox." + state.sessionId, state.outbox);
  }

  // ---------------------------------------------------------------- rendering
  function renderMessage(item, isLast) {
    var li = document.createElement("li");
    li.className = "msg msg-" + item.role + (item.pending ? " msg-pending" : "");
    if (item.local) li.dataset.local = item.local;
    var sender = document.createElement("span");
    var label = item.role === "user" ? t("you") : item.role === "agent" ? (item.name || t("agent")) : item.role === "system" ? t("system") : t("bot");
    sender.className = item.role === "agent" ? "msg-sender" : "visually-hidden";
    sender.textContent = label + ": ";
    li.appendChild(sender);
    if (item.attachment) {
      li.appendChild(renderAttachment(item));
    } else if (item.card) {
      li.appendChild(renderCard(item.card));
    } else if (item.role === "bot" || item.role === "agent") {
      var body = document.createElement("div");
      body.className = "msg-body";
      body.appendChild(renderMarkdown(item.text));
      li.appendChild(body);
    } else {
      var text = document.createElement("span");
      text.className = "msg-body";
      if (item.links) renderInline(item.text).forEach(function (n) { text.appendChild(n); });  // the desk's text
      else text.textContent = item.text;
      li.appendChild(text);
    }
    if (item.pending) {
      var pending = document.createElement("span");
      pending.className = "visually-hidden msg-pending-note";
      pending.textContent = " " + t("pending");
      li.appendChild(pending);
    }
    if (item.articles && item.articles.length) {
      var list = document.createElement("ul");
      list.className = "msg-articles";
      item.articles.forEach(function (article) {
        var href = safeHref(article.url || "");
        if (!href) return;
        var entry = document.createElement("li");
        var a = makeLink(href, [document.createTextNode(String(article.title || href))]);
        a.setAttribute("aria-label", t("articleLink", { title: String(article.title || href) }));
        entry.appendChild(a);
        list.appendChild(entry);
      });
      li.appendChild(list);
    }
    if (item.image) {
      var src = safeHref(item.image);
      if (src && /^https?:/.test(src)) {
        var img = document.createElement("img");
        img.src = src;
        img.alt = "";
        img.style.maxWidth = "100%";
        li.appendChild(img);
      }
    }
    if (item.buttons && item.buttons.length) {
      var group = document.createElement("div");
      group.className = "msg-buttons";
      group.setAttribute("role", "group");
      var plain = li.querySelector(".msg-card-question") || li.querySelector(".msg-body");
      group.setAttribute("aria-label", (plain && plain.textContent.trim().slice(0, 80)) || t("bot"));
      item.buttons.forEach(function (button) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = String(button.title);
        b.disabled = !isLast || !!item.answered;
        b.addEventListener("click", function () {
          item.answered = true;
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (x) { x.disabled = true; });
          send(String(button.title), String(button.payload || button.title));
          els.input.focus();
        });
        group.appendChild(b);
      });
      li.appendChild(group);
    }
    return li;
  }

  function paperclipIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", document.querySelector("#chat-attach path") ? document.querySelector("#chat-attach path").getAttribute("d") : "");
    svg.appendChild(path);
    return svg;
  }

  /** A file the customer attached: its name, and while the page is open a preview of an image. */
  function renderAttachment(item) {
    var box = document.createElement("span");
    box.className = "msg-body msg-attachment";
    var name = document.createElement("span");
    name.className = "msg-attachment-name";
    name.appendChild(paperclipIcon());
    name.appendChild(document.createTextNode(String(item.attachment.name || "")));
    box.appendChild(name);
    var preview = state.previews[item.local];
    if (preview && /^data:image\/(png|jpeg|webp);base64,/.test(preview)) {
      var img = document.createElement("img");
      img.className = "msg-attachment-preview";
      img.src = preview;
      img.alt = "";
      box.appendChild(img);
    }
    return box;
  }

  /** The bot's answer as one card: title, the answer passage (markdown), the link, the question. */
  function renderCard(card) {
    var box = document.createElement("div");
    box.className = "msg-body msg-card";
    if (card.intro) {
      var intro = document.createElement("p");
      intro.className = "msg-card-intro";
      intro.textContent = card.intro;
      box.appendChild(intro);
    }
    var title = document.createElement("h3");
    title.className = "msg-card-title";
    title.textContent = card.title;
    if (card.section) {
      var section = document.createElement("span");
      section.className = "msg-card-section";
      section.textContent = " – " + card.section;
      title.appendChild(section);
    }
    box.appendChild(title);
    var answer = document.createElement("div");
    answer.className = "msg-card-answer";
    answer.appendChild(renderMarkdown(card.markdown));
    box.appendChild(answer);
    var href = safeHref(card.url || "");
    if (href) {
      var link = document.createElement("p");
      link.className = "msg-card-link";
      link.appendChild(makeLink(href, [document.createTextNode(card.linkLabel || card.title)]));
      box.appendChild(link);
    }
    if (card.question) {
      var question = document.createElement("p");
      question.className = "msg-card-question";
      question.textContent = card.question;
      box.appendChild(question);
    }
    return box;
  }

  function cardOf(data) {
    if (data.type !== "answer" || typeof data.title !== "string") return null;
    return {
      intro: String(data.intro || ""), title: data.title, section: String(data.section || ""),
      markdown: String(data.markdown || ""), url: String(data.url || ""),
      linkLabel: String(data.link_label || ""), question: String(data.question || "")
    };
  }

  function renderAll() {
    els.messages.textContent = "";
    var lastBot = -1;
    state.history.forEach(function (item, i) { if (item.buttons && item.buttons.length) lastBot = i; });
    if (!state.history.length) {
      var welcome = renderMessage({ role: "bot", text: t("welcome") }, false);
      welcome.classList.add("msg-welcome");  // the page's own greeting, not from Rasa: never stored
      els.messages.appendChild(welcome);
    }
    state.history.forEach(function (item, i) {
      els.messages.appendChild(renderMessage(item, i === lastBot && i >= state.history.length - 3));
    });
    scrollDown();
  }

  function addMessage(item) {
    // Older buttons stop being answerable once the conversation moved on.
    Array.prototype.forEach.call(els.messages.querySelectorAll(".msg-buttons button"), function (b) { b.disabled = true; });
    if (!state.history.length) els.messages.textContent = "";
    state.history.push(item);
    saveHistory();
    els.messages.appendChild(renderMessage(item, true));
    scrollDown();
    return item;
  }

  function scrollDown() {
    els.log.scrollTop = els.log.scrollHeight;
  }

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (el) {
      el.textContent = t(el.getAttribute("data-i18n"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-placeholder]"), function (el) {
      el.setAttribute("placeholder", t(el.getAttribute("data-i18n-placeholder")));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-label]"), function (el) {
      el.setAttribute("aria-label", t(el.getAttribute("data-i18n-label")));
    });
    document.title = t("title");
    els.lang.value = state.lang;
    updateCounter();
    renderTicket();
    renderConnection();
    renderAll();
  }

  function setTyping(on) {
    clearTimeout(state.typingTimer);
    els.typing.hidden = !on;
    if (on) state.typingTimer = setTimeout(function () { els.typing.hidden = true; }, 20000);
  }

  /** The notice above the log: null (none), "connecting", "offline" or "unavailable". */
  function setConnection(key) {
    state.connection = key;
    renderConnection();
  }

  function renderConnection() {
    var key = state.connection;
    els.connection.hidden = !key;
    els.connection.classList.toggle("is-unavailable", key === "unavailable");
    els.connection.textContent = "";
    if (!key) return;
    if (key !== "unavailable") {
      els.connection.textContent = t(key);
      return;
    }
    // "The chat is unavailable right now. Please contact us: phone 0800 … (24/7) or e-mail support@…."
    var support = config.support || {};
    var strong = document.createElement("strong");
    strong.textContent = t("unavailable");
    els.connection.appendChild(strong);
    var parts = [];
    if (support.hotline) {
      var phone = [linkTo("tel:" + (support.tel || support.hotline), String(support.hotline))];
      var hours = t("hours");
      if (hours && hours !== "hours") phone.push(document.createTextNode(" " + t("contactHours", { hours: hours })));
      parts.push(withNodes(t("contactPhone"), "{hotline}", phone));
    }
    if (support.email) {
      parts.push(withNodes(t("contactEmail"), "{email}", [linkTo("mailto:" + support.email, String(support.email))]));
    }
    els.connection.appendChild(document.createTextNode(" " + t(parts.length ? "unavailableContact" : "unavailableLater")));
    parts.forEach(function (nodes, i) {
      els.connection.appendChild(document.createTextNode(i === 0 ? " " : " " + t("contactOr") + " "));
      nodes.forEach(function (n) { els.connection.appendChild(n); });
    });
    if (parts.length) els.connection.appendChild(document.createTextNode("."));
  }

  function linkTo(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  /** ``text`` as nodes, with ``nodes`` where ``placeholder`` is. */
  function withNodes(text, placeholder, nodes) {
    var at = text.indexOf(placeholder);
    if (at < 0) return [document.createTextNode(text)].concat(nodes);
    return [document.createTextNode(text.slice(0, at))].concat(nodes, [document.createTextNode(text.slice(at + placeholder.length))]);
  }

  // ---------------------------------------------------------------- length counter
  /** Characters as the server counts them: code points, so an emoji is one. */
  function charCount(text) {
    var pairs = text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g);
    return text.length - (pairs ? pairs.length : 0);
  }

  function maxChars() {
    var limit = Number(config.maxMessageChars);
    return limit > 0 ? limit : Infinity;  // an older server without the setting: it refuses itself
  }

  function tooLong(text) {
    return charCount(String(text || "").trim()) > maxChars();
  }

  /** The counter under the input from 80 % of the limit, an error over it; send only when it fits. */
  function updateCounter() {
    var count = charCount(els.input.value.trim());
    var limit = maxChars();
    var over = count > limit;
    var number = new Intl.NumberFormat(state.lang);
    var params = { count: number.format(count), limit: number.format(limit) };
    els.counter.hidden = !(count >= limit * COUNTER_FROM);
    els.counter.classList.toggle("is-error", over);
    els.counterCount.textContent = els.counter.hidden ? "" : t("counter", params);
    els.counterError.textContent = over ? t("tooLong", params) : "";
    els.counterError.hidden = !over;
    if (over) els.input.setAttribute("aria-invalid", "true"); else els.input.removeAttribute("aria-invalid");
    els.send.disabled = over;
    // Screen readers hear the count when typing pauses, not at every key.
    clearTimeout(state.counterTimer);
    var status = els.counter.hidden ? "" : over ? t("tooLong", params) : t("counterStatus", params);
    state.counterTimer = setTimeout(function () { els.counterStatus.textContent = status; }, ANNOUNCE_AFTER);
  }

  // ---------------------------------------------------------------- ticket (live part)
  /** Customer messages go to the agent side (not Rasa) while this is true. */
  function ticketOpen() {
    return !!(state.ticket && state.ticket.status === "open" && state.ticket.mode !== "bot");
  }

  function expectedText(ticket) {
    var expected = ticket.expected_response;
    if (!expected) return "—";
    if (expected.text && expected.text[state.lang]) return String(expected.text[state.lang]);
    return String(expected.minutes) + " min";
  }

  function renderTicket() {
    var ticket = state.ticket;
    els.ticket.hidden = !ticketOpen();
    if (!ticketOpen()) return;
    var params = { ticket: ticket.id, expected: expectedText(ticket), agent: ticket.agent || t("anAgent") };
    els.ticketText.textContent = t(ticket.mode === "live" ? "ticketLive" : "ticketOpen", params);
  }

  function apiUrl(suffix) {
    return config.apiBase + "/live/" + encodeURIComponent(state.chatKey) + (suffix || "");
  }

  function applyTicket(ticket, announce) {
    var before = state.ticket;
    state.ticket = ticket;
    storage.set("ticket." + state.sessionId, ticket);
    if (announce && before && ticket && before.id === ticket.id) {
      if (ticket.status === "closed" && before.status !== "closed") {
        addMessage({ role: "system", text: t("closed") });
      } else if (ticket.mode === "live" && before.mode !== "live") {
        addMessage({ role: "system", text: t("liveStarted", { agent: ticket.agent || t("anAgent") }) });
      } else if (ticket.mode === "bot" && before.mode !== "bot") {
        addMessage({ role: "system", text: t("handedBack") });
      }
    }
    renderTicket();
    if (ticket && ticket.status === "open") openEvents(); else closeEvents();
  }

  function applyLiveMessage(message) {
    var key = "t:" + message.id;
    if (state.seen[key]) return;
    state.seen[key] = true;
    if (message.role === "customer") {
      // Our own message, echoed: mark the optimistic copy as delivered.
      for (var i = state.history.length - 1; i >= 0; i--) {
        var item = state.history[i];
        if (item.role === "user" && !item.key && item.local &&
            (item.local === message.client_id || (!message.client_id && item.text === message.text))) {
          item.key = key;
          item.pending = false;
          saveHistory();
          return;
        }
      }
      addMessage({ role: "user", text: message.text, key: key });
    } else if (message.role === "agent") {
      setTyping(false);
      addMessage({ role: "agent", text: message.text, name: message.name, key: key });
    } else if (message.role === "notice") {  // the desk's own message: a new response time, the rating link
      addMessage({ role: "system", text: message.text, key: key, links: true });
    }
  }

  function checkTicket() {
    clearTimeout(state.stateTimer);
    if (!config.apiBase || !window.fetch || typeof state.chatKey !== "string") return;
    fetch(apiUrl(""), { headers: { Accept: "application/json" }, credentials: "omit" })
      .then(function (r) {
        if (r.status === 404) {  // the key ended with its ticket
          storage.remove("chatkey." + state.sessionId);
          state.chatKey = null;
          if (state.ticket && state.ticket.status === "open") {
            applyTicket(Object.assign({}, state.ticket, { status: "closed" }), true);
          }
        }
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        if (!data || !data.ticket) return;
        if (state.ticket && state.ticket.id !== data.ticket.id) state.ticket = null;  // a new handoff
        applyTicket(data.ticket, true);
        (data.messages || []).forEach(applyLiveMessage);
      })
      .catch(function () { /* next bot message or reload tries again */ });
  }

  function openEvents() {
    if (state.events || !window.EventSource) return;
    var source = new EventSource(apiUrl("/events"));
    state.events = source;
    source.addEventListener("ticket", function (e) {
      var ticket = JSON.parse(e.data);
      if (ticket) applyTicket(ticket, true); else closeEvents();
    });
    source.addEventListener("message", function (e) { applyLiveMessage(JSON.parse(e.data)); });
    source.addEventListener("open", function () { if (state.confirmed) setConnection(null); });
  }

  function closeEvents() {
    if (state.events) state.events.close();
    state.events = null;
  }

  function postLive(item) {
    return fetch(apiUrl("/messages"), {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ text: item.text, client_id: item.local })
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (message) {
      applyLiveMessage(message);
    });
  }

  // ---------------------------------------------------------------- socket (Rasa)
  /** Rasa as this page reaches it: an https page cannot use http (the browser blocks it), so it upgrades. */
  function rasaUrl() {
    var url = String(config.rasaUrl || "");
    if (window.location.protocol === "https:" && /^http:/i.test(url)) url = "https:" + url.slice(5);
    return url.replace(/\/+$/, "");
  }

  function connect() {
    if (!window.io) {
      setConnection("offline");
      return;
    }
    setConnection("connecting");
    waitForConnection();
    var socket = window.io(rasaUrl(), {
      path: config.socketPath || "/socket.io",
      transports: config.transports || ["websocket", "polling"],
      reconnectionDelayMax: 5000
    });
    state.socket = socket;
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function () {
      state.confirmed = true;
      state.failures = 0;
      clearTimeout(state.unavailableTimer);
      state.unavailableTimer = null;
      if (state.unavailable) {
        state.unavailable = null;
        socket.io.reconnectionDelay(1000);
        socket.io.reconnectionDelayMax(5000);
      }
      setConnection(null);
      flushOutbox();
    });
    socket.on("disconnect", function () {
      state.confirmed = false;
      if (!state.unavailable) setConnection("offline");
      waitForConnection();
    });
    socket.on("connect_error", function () {
      state.confirmed = false;
      state.failures += 1;
      if (state.unavailable) return;
      setConnection("offline");
      waitForConnection();
      if (state.failures >= FAILURES_BEFORE_UNAVAILABLE) giveUp();
    });
    socket.on("bot_uttered", receive);
  }

  function waitForConnection() {
    if (!state.unavailableTimer && !state.unavailable) state.unavailableTimer = setTimeout(giveUp, UNAVAILABLE_AFTER);
  }

  /** The chat cannot connect: say so with the way to a person, and name the cause in the console. */
  function giveUp() {
    clearTimeout(state.unavailableTimer);
    state.unavailableTimer = null;
    if (state.confirmed || state.unavailable) return;
    state.unavailable = "probing";
    diagnose().then(function (cause) {
      if (state.confirmed) {
        state.unavailable = null;
        return;
      }
      state.unavailable = cause;
      setConnection("unavailable");
      if (window.console && console.error) console.error(explain(cause));
      if (state.socket && state.socket.io) {  // keep trying, slowly: Rasa may come back
        state.socket.io.reconnectionDelay(SLOW_RETRY);
        state.socket.io.reconnectionDelayMax(2 * SLOW_RETRY);
      }
    });
  }

  /**
   * Why the socket fails, asked of Rasa's socket.io path (engine.io checks the Origin first):
   * "origin" (it refuses this page's origin), "unreachable" (no answer, or a proxy's error) or
   * "failing" (it accepts the origin, yet the socket fails: e.g. a proxy without WebSocket upgrades).
   */
  function diagnose() {
    if (!window.fetch) return Promise.resolve("unreachable");
    var probe = rasaUrl() + (config.socketPath || "/socket.io") + "/?EIO=4&transport=polling";
    // OPTIONS always carries the Origin header: refused, the answer has no CORS headers (another
    // origin: the fetch fails) or says so (same origin).
    return fetch(probe, { method: "OPTIONS", mode: "cors", credentials: "omit", cache: "no-store" })
      .then(function (r) {
        if (r.ok) return "failing";
        return r.text().then(function (body) {
          return /not an accepted origin/i.test(body) ? "origin" : "unreachable";
        });
      }, function () {
        // No readable answer: is anything there at all? (An opaque answer is an answer.)
        return fetch(probe, { method: "POST", mode: "no-cors", credentials: "omit", cache: "no-store", body: "" })
          .then(function () { return "origin"; }, function () { return "unreachable"; });
      })
      .catch(function () { return "unreachable"; });
  }

  /** The console's line for the site's developer: the cause and the setting to change. */
  function explain(cause) {
    var url = rasaUrl();
    var origin = window.location.origin;
    var prefix = "Helpdesk chat unavailable: ";
    if (cause === "origin") {
      return prefix + "Rasa's socket.io channel at " + url + " does not accept connections from the chat page's " +
        "origin " + origin + ". Add " + origin + " to HELPDESK_CHAT_ORIGINS in Rasa's environment and restart " +
        "Rasa (the origin the chat page is served from, i.e. the helpdesk web service's public URL, also when the " +
        "chat is embedded: never the website that embeds it).";
    }
    if (cause === "failing") {
      return prefix + "Rasa at " + url + " accepts this page's origin, but the socket.io connection fails. " +
        "If a reverse proxy is in front of Rasa, it must pass WebSocket upgrades on " +
        (config.socketPath || "/socket.io") + "/ (HELPDESK_RASA_PUBLIC_URL names where browsers reach Rasa).";
    }
    return prefix + "cannot reach Rasa's socket.io channel at " + url + ". Set HELPDESK_RASA_PUBLIC_URL " +
      "(the web service's environment) to the URL browsers reach Rasa at (unset: this page's host, port 5005), " +
      "and check that Rasa runs and that a reverse proxy in front of it forwards " +
      (config.socketPath || "/socket.io") + "/ to it.";
  }

  // ---------------------------------------------------------------- inside /chat/embed.js's iframe
  /** To the embedding page, and only to its origin (from embed.js, checked by the server). */
  function tellHost(what) {
    if (!config.hostOrigin || window.parent === window) return;
    window.parent.postMessage({ helpdeskChat: what }, config.hostOrigin);
  }

  function listenToHost() {
    if (!config.hostOrigin || window.parent === window) return;
    window.addEventListener("message", function (e) {
      if (e.source !== window.parent || e.origin !== config.hostOrigin) return;
      var data = e.data;
      if (data && typeof data === "object" && data.helpdeskChat === "focus") els.input.focus();
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !e.defaultPrevented && !e.isComposing) {
        e.preventDefault();
        tellHost("close");
      }
    });
    if (els.close) els.close.addEventListener("click", function () { tellHost("close"); });
    tellHost("ready");
  }

  /** One bot message from Rasa's socket.io channel. */
  function receive(message) {
    if (!message || typeof message !== "object") return;
    var data = message.data && typeof message.data === "object" && !message.text ? message.data : message;
    var handoff = data.helpdesk_chat;
    if (handoff && typeof handoff.key === "string") {
      state.chatKey = handoff.key;
      storage.set("chatkey." + state.sessionId, handoff.key);
      clearTimeout(state.stateTimer);
      state.stateTimer = setTimeout(checkTicket, 100);
    }
    var buttons = data.quick_replies || data.buttons || [];
    var card = cardOf(data);
    var item = {
      role: "bot",
      card: card,
      text: typeof data.text === "string" ? data.text : "",
      buttons: buttons.filter(function (b) { return b && b.title; }).map(function (b) {
        return { title: String(b.title), payload: String(b.payload || b.title) };
      }),
      articles: Array.isArray(data.articles) ? data.articles.map(function (a) {
        return { title: String(a && a.title || ""), url: String(a && a.url || "") };
      }) : []
    };
    if (data.attachment && data.attachment.type === "image" && data.attachment.payload) {
      item.image = String(data.attachment.payload.src || "");
    }
    if (!item.card && !item.text && !item.buttons.length && !item.articles.length && !item.image) return;
    setTyping(false);
    addMessage(item);
    // A bot message may announce a handoff: ask the backend (debounced).
    clearTimeout(state.stateTimer);
    state.stateTimer = setTimeout(checkTicket, 400);
  }

  function emit(item) {
    state.socket.emit("user_uttered", {
      message: item.payload || item.text,
      session_id: state.sessionId,
      // Rasa reads the key named by metadata_key in credentials.yml ("metadata" by default).
      customData: { language: state.lang },
      metadata: { language: state.lang }
    });
    setTyping(true);
  }

  function markSent(item) {
    item.pending = false;
    saveHistory();
    var li = els.messages.querySelector('[data-local="' + item.local + '"]');
    if (li) {
      li.classList.remove("msg-pending");
      var note = li.querySelector(".msg-pending-note");
      if (note) note.remove();
    }
  }

  function flushOutbox() {
    var queue = state.outbox;
    state.outbox = [];
    saveHistory();
    queue.forEach(function (local) {
      var item = state.history.filter(function (h) { return h.local === local; })[0];
      if (!item) return;
      deliver(item);
    });
  }

  function deliver(item) {
    if (ticketOpen()) {
      postLive(item).then(function () { markSent(item); }, function () {
        item.pending = true;
        addMessage({ role: "system", text: t("sendFailed") });
      });
    } else if (state.socket && state.confirmed) {
      emit(item);
      markSent(item);
    } else {
      state.outbox.push(item.local);
      saveHistory();
    }
  }

  function send(text, payload) {
    text = String(text || "").trim();
    if (!text) return;
    var item = addMessage({
      role: "user",
      text: text,
      payload: payload && payload !== text ? payload : undefined,
      local: newSessionId().slice(0, 12),
      pending: true
    });
    deliver(item);
  }

  // ---------------------------------------------------------------- attachments (helpdesk/attachments/api.py)
  var ATTACH_TYPES = /^(image\/(png|jpeg|webp)|application\/pdf)$/;

  /** Send one file to the web service; the answer is the assistant's acknowledgement, or why it was refused. */
  function attach(file) {
    var settings = config.attachments;
    if (!settings || !file || !window.fetch || !window.FormData) return;
    var name = String(file.name || "screenshot.png");
    if (file.size > settings.maxBytes) {
      addMessage({ role: "system", text: t("attachTooLarge", { name: name, limit: Math.floor(settings.maxBytes / 1048576) }) });
      return;
    }
    if (file.type && !ATTACH_TYPES.test(file.type)) {  // a first guess only: the server looks at the bytes
      addMessage({ role: "system", text: t("attachType", { name: name }) });
      return;
    }
    var item = {
      role: "user",
      text: "📎 " + name,
      attachment: { name: name, kind: /^image\//.test(file.type) ? "image" : "file" },
      local: newSessionId().slice(0, 12),
      pending: true
    };
    var show = function () {
      addMessage(item);
      upload(item, file, name);
    };
    if (/^image\//.test(file.type) && window.FileReader && file.size < 4 * 1048576) {
      var reader = new FileReader();
      reader.onload = function () { state.previews[item.local] = String(reader.result || ""); show(); };
      reader.onerror = show;
      reader.readAsDataURL(file);
    } else {
      show();
    }
  }

  function upload(item, file, name) {
    var form = new FormData();
    form.append("file", file, name);
    form.append("session", state.sessionId);
    form.append("lang", state.lang);
    setTyping(true);
    fetch(config.attachments.url, { method: "POST", body: form, credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, data: data }; });
      })
      .then(function (answer) {
        setTyping(false);
        if (answer.ok) {
          // As the desk names it (its transcript line while a ticket is open: the live chat's echo matches it).
          var stored = String((answer.data.attachment || {}).filename || name);
          item.attachment.name = stored;
          item.text = "📎 " + stored;
          var shown = els.messages.querySelector('[data-local="' + item.local + '"] .msg-attachment-name');
          if (shown && shown.lastChild) shown.lastChild.textContent = stored;
          markSent(item);
          addMessage({ role: "bot", text: String(answer.data.message || "") });
        } else {
          unsent(item);
          var reason = typeof answer.data.detail === "string" ? answer.data.detail : t("attachNoNetwork");
          addMessage({ role: "system", text: t("attachFailed", { name: name, reason: reason }) });
        }
      }, function () {
        setTyping(false);
        unsent(item);
        addMessage({ role: "system", text: t("attachFailed", { name: name, reason: t("attachNoNetwork") }) });
      });
  }

  /** A refused file leaves the conversation: only the notice of why stays. */
  function unsent(item) {
    state.history = state.history.filter(function (h) { return h !== item; });
    delete state.previews[item.local];
    saveHistory();
    var li = els.messages.querySelector('[data-local="' + item.local + '"]');
    if (li) li.remove();
  }

  /** Files pasted into the message box (a screenshot from the clipboard); text pastes stay text. */
  function pastedFiles(e) {
    var items = (e.clipboardData && e.clipboardData.items) || [];
    var files = [];
    for (var i = 0; i < items.length; i++) {
      if (items[i].kind === "file") {
        var file = items[i].getAsFile();
        if (file) files.push(file);
      }
    }
    return files;
  }

  function newConversation() {
    closeEvents();
    storage.remove("history." + state.sessionId);
    storage.remove("outbox." + state.sessionId);
    storage.remove("ticket." + state.sessionId);
    storage.remove("chatkey." + state.sessionId);
    storage.remove("session");
    state.seen = {};
    loadSession();
    renderTicket();
    renderAll();
    if (state.socket) {
      // A fresh connection joins only the new session's room (Rasa never leaves a room).
      state.confirmed = false;
      state.socket.disconnect().connect();
    }
    els.input.focus();
  }

  // ---------------------------------------------------------------- wiring
  function init() {
    ["log", "messages", "typing", "form", "input", "send", "counter", "lang", "connection", "ticket",
     "new", "close", "attach", "file"].forEach(function (id) {
      els[id] = document.getElementById("chat-" + id);
    });
    els.ticketText = document.getElementById("chat-ticket-text");
    els.counterCount = document.getElementById("chat-counter-count");
    els.counterError = document.getElementById("chat-counter-error");
    els.counterStatus = document.getElementById("chat-counter-status");
    loadSession();
    state.lang = pickLanguage(config.lang, storage.get("lang", null), navigator.languages || [navigator.language]);
    els.input.value = storage.get("draft", "") || "";
    applyLanguage();  // the texts, and the counter of a restored draft

    els.form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (tooLong(els.input.value)) return;  // Enter too: kept whole in the box until it fits
      var text = els.input.value;
      els.input.value = "";
      storage.remove("draft");
      updateCounter();
      send(text);
      els.input.focus();
    });
    els.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        els.form.requestSubmit ? els.form.requestSubmit() : els.form.dispatchEvent(new Event("submit"));
      }
    });
    els.input.addEventListener("input", function () {
      storage.set("draft", els.input.value);
      updateCounter();
    });
    els.lang.addEventListener("change", function () {
      state.lang = served(els.lang.value) ? els.lang.value : pickLanguage(null, null, []);
      storage.set("lang", state.lang);
      applyLanguage();
    });
    els["new"].addEventListener("click", newConversation);
    if (config.attachments && els.attach && els.file) {
      els.attach.hidden = false;
      els.attach.addEventListener("click", function () { els.file.click(); });
      els.file.addEventListener("change", function () {
        Array.prototype.forEach.call(els.file.files || [], attach);
        els.file.value = "";
        els.input.focus();
      });
      els.input.addEventListener("paste", function (e) {
        var files = pastedFiles(e);
        if (!files.length) return;
        e.preventDefault();
        files.forEach(attach);
      });
    }

    if (state.ticket) applyTicket(state.ticket, false);
    if (state.chatKey) checkTicket();
    listenToHost();
    connect();
  }

  window.HelpdeskChat = {
    renderMarkdown: renderMarkdown,
    pickLanguage: pickLanguage,
    receive: function (message) { receive(message); },
    attach: function (file) { attach(file); },
    state: state
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
