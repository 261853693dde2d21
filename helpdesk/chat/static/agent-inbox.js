/*
 * The agent's workspace in the inbox (progressive enhancement; every page works without it).
 *
 * - Every inbox page follows /agent/events (Server-Sent Events: the open tickets of the
 *   agent's teams). New tickets and customers waiting for an answer show as two counts
 *   in the header and the page title ("3 new, 1 waiting"), and are announced in a polite live region. On the
 *   list, the table and the "recently routed elsewhere" list are redrawn in place from the server's own
 *   page (no reload, so keyboard focus and scroll position stay where they are), new rows highlighted.
 * - Ctrl+Enter (Cmd+Enter on a Mac) in a text box sends its form.
 * - The knowledge-base suggestions of a ticket get "Insert link" / "Insert answer"
 *   buttons that put the article's link or passage into the reply box.
 * Times are formatted in the desk's time zone (body[data-tz]) with a 24-hour clock, in the
 * page's language (html[lang]); the texts come translated from the page (body[data-texts]).
 */
(function () {
  "use strict";
  var tz = document.body.getAttribute("data-tz") || undefined;
  var badge = document.getElementById("inbox-counts");
  var newBadge = document.getElementById("inbox-new");
  var waitingBadge = document.getElementById("inbox-waiting");
  var alertBox = document.getElementById("inbox-alert");
  var table = document.getElementById("handoffs");
  var baseTitle = document.title;
  var language = document.documentElement.lang || "en";
  var texts = {};
  try { texts = JSON.parse(document.body.getAttribute("data-texts") || "{}"); } catch (e) { /* English keys */ }

  // A text of the page's language with its {name} placeholders filled in.
  window.HelpdeskText = function (key, values) {
    return String(texts[key] || key).replace(/\{(\w+)\}/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  };
  var say = window.HelpdeskText;

  window.HelpdeskTime = function (iso) {
    try {
      return new Intl.DateTimeFormat(language, {
        timeZone: tz, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
        hourCycle: "h23"
      }).format(new Date(iso));
    } catch (e) {
      return String(iso);
    }
  };

  // ------------------------------------------------------------ Ctrl+Enter sends
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var target = e.target;
    if (!target || target.tagName !== "TEXTAREA" || !target.form) return;
    e.preventDefault();
    if (target.form.requestSubmit) target.form.requestSubmit(); else target.form.submit();
  });

  // ------------------------------------------------------------ agent assist
  function replyBox() {
    return document.getElementById("live-text") || document.getElementById("note-text");
  }

  function insert(text) {
    var box = replyBox();
    if (!box) return;
    var start = box.selectionStart != null ? box.selectionStart : box.value.length;
    var end = box.selectionEnd != null ? box.selectionEnd : box.value.length;
    var before = box.value.slice(0, start);
    var glue = before && !/\s$/.test(before) ? "\n" : "";
    box.value = before + glue + text + box.value.slice(end);
    box.focus();
    var caret = (before + glue + text).length;
    box.setSelectionRange(caret, caret);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".suggestion"), function (item) {
    var actions = item.querySelector(".assist-actions");
    if (!actions || !replyBox()) return;
    actions.hidden = false;
    var link = item.querySelector(".insert-link");
    if (link) link.addEventListener("click", function () {
      insert("[" + item.getAttribute("data-title") + "](" + item.getAttribute("data-url") + ")");
    });
    item.querySelector(".insert-passage").addEventListener("click", function () {
      insert(item.getAttribute("data-passage"));
    });
  });

  // ------------------------------------------------------------ the live list
  if (!window.EventSource || !badge) return;
  var known = null;      // ticket ids seen so far (null until the first event)
  var waitingKnown = {}; // tickets whose customer was already waiting
  var fresh = {};        // new since this page opened: highlighted in the table

  function announce(text) {
    if (!alertBox || !text) return;
    alertBox.textContent = "";
    window.setTimeout(function () { alertBox.textContent = text; }, 50);
  }

  function redraw() {
    if (!table || !window.fetch || !window.DOMParser) return;
    // Marked as background: a redraw is not the agent's activity, so an open tab alone never
    // keeps a session from its idle timeout.
    fetch(window.location.href, { credentials: "same-origin",
                                  headers: { Accept: "text/html", "X-Helpdesk-Background": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var body = doc.querySelector("#handoffs tbody");
        if (!body) return;
        table.replaceChild(document.importNode(body, true), table.tBodies[0]);
        var elsewhere = document.getElementById("routed-elsewhere");
        var fresher = doc.getElementById("routed-elsewhere");
        if (elsewhere && fresher) elsewhere.replaceWith(document.importNode(fresher, true));
        Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
          var id = row.getAttribute("data-ticket");
          if (id && fresh[id]) row.classList.add("fresh");
        });
      })
      .catch(function () { /* the next event tries again */ });
  }

  function update(state) {
    var ids = {};
    var added = [];
    var nowWaiting = [];
    state.tickets.forEach(function (t) {
      ids[t.ticket_id] = true;
      if (known && !known[t.ticket_id]) { added.push(t.ticket_id); fresh[t.ticket_id] = true; }
      if (t.waiting && !waitingKnown[t.ticket_id] && known) nowWaiting.push(t.ticket_id);
    });
    waitingKnown = {};
    state.tickets.forEach(function (t) { if (t.waiting) waitingKnown[t.ticket_id] = true; });
    var first = known === null;
    known = ids;
    // Two labelled counts, never their sum: a waiting customer's ticket may be new as well.
    var counts = [];
    [["new", newBadge], ["waiting", waitingBadge]].forEach(function (kind) {
      var n = state[kind[0]];
      var text = say(kind[0], { num: n });
      kind[1].hidden = !n;
      kind[1].textContent = text;
      if (n) counts.push(text);
    });
    badge.hidden = !counts.length;
    document.title = (counts.length ? "(" + counts.join(", ") + ") " : "") + baseTitle;
    if (!first) {
      var parts = [];
      if (added.length) {
        parts.push(added.length === 1 ? say("new_ticket", { ticket: added[0] }) : say("new_tickets", { num: added.length }));
      }
      if (nowWaiting.length) {
        parts.push(nowWaiting.length === 1 ? say("customer_waiting", { ticket: nowWaiting[0] })
                                           : say("customers_waiting", { num: nowWaiting.length }));
      }
      announce(parts.join(". "));
      redraw();
    }
  }

  var source = new EventSource("/agent/events");
  source.addEventListener("inbox", function (e) { update(JSON.parse(e.data)); });
  // A form that leaves the page ends the stream first; one sent by script (the live reply) does not.
  document.addEventListener("submit", function (e) { if (!e.defaultPrevented) source.close(); });
  // Ages and countdowns move with the clock: redraw the table each minute (in place, focus kept).
  if (table) window.setInterval(redraw, 60000);
})();
