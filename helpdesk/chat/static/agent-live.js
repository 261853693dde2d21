/*
 * Live chat panel of the inbox detail page (progressive enhancement).
 *
 * Without this script the panel's forms post and the page reloads. With it,
 * new messages of the live chat appear as they come (Server-Sent Events from
 * /agent/handoffs/{id}/live/events) and "Send to customer" posts without
 * leaving the page. Every text is set with textContent: customer text is
 * never markup. Times use the desk's zone and a 24-hour clock, like the page; texts are the
 * page's, in its language (window.HelpdeskText of agent-inbox.js).
 */
(function () {
  "use strict";
  var panel = document.getElementById("live");
  if (!panel || !window.EventSource || !window.fetch) return;
  var ticket = panel.getAttribute("data-ticket");
  var mode = panel.getAttribute("data-mode");
  var log = document.getElementById("live-log");
  var form = document.getElementById("live-send");
  var textarea = document.getElementById("live-text");
  var problem = document.getElementById("live-problem");
  var base = "/agent/handoffs/" + encodeURIComponent(ticket) + "/live";
  var seen = {};

  function show(message) {
    if (seen[message.id]) return;
    seen[message.id] = true;
    var li = document.createElement("li");
    li.className = "sender-" + message.role;
    var who = document.createElement("small");
    who.textContent = window.HelpdeskText({ agent: "agent", notice: "notice" }[message.role] || "customer") + " · " +
      (message.at ? window.HelpdeskTime(message.at) : "");  // desk time zone, 24 h (agent-inbox.js)
    var text = document.createElement("div");
    text.className = "msg";
    text.textContent = message.text;
    li.appendChild(who);
    li.appendChild(text);
    log.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function say(text) {
    problem.textContent = text || "";
    problem.hidden = !text;
  }

  var source = new EventSource(base + "/events?after=" + encodeURIComponent(panel.getAttribute("data-after")));
  source.addEventListener("message", function (e) { show(JSON.parse(e.data)); });
  // Any other form (close, hand back, resolve, ...) leaves the page: the stream must not
  // reload it in the middle of that navigation.
  var leaving = false;
  document.addEventListener("submit", function (e) {
    if (e.target !== form) {
      leaving = true;
      source.close();
    }
  }, true);
  source.addEventListener("ticket", function (e) {
    var state = JSON.parse(e.data);
    if (!state || leaving) return;
    var changed = state.status !== "open" || state.mode !== mode;
    if (changed && !(textarea && textarea.value.trim())) {
      window.location.reload();  // the forms depend on the state: let the server draw them
    } else if (changed) {
      say(window.HelpdeskText("state_changed", { mode: state.mode }));
    }
  });

  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = new FormData(form);
      if (!String(body.get("text") || "").trim()) return;
      fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          return r.json().then(function (data) {
            if (!r.ok) throw new Error(data.detail || ("HTTP " + r.status));
            return data;
          });
        })
        .then(function (message) {
          show(message);
          textarea.value = "";
          say(null);
          textarea.focus();
        })
        .catch(function (err) { say(window.HelpdeskText("not_sent", { error: err.message })); });
    });
  }
})();
