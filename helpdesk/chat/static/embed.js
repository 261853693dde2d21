/*
 * Embeds the helpdesk chat in any page with one tag:
 *   <script src="https://helpdesk.example.com/chat/embed.js" async></script>
 * Optional: data-lang="de" on the tag fixes the language.
 * Adds a launcher button (bottom right) that opens the chat page of the same
 * origin in an iframe, so the host page's styles and scripts never mix with it.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || document.getElementById("helpdesk-chat-launcher")) return;
  var origin = new URL(script.src).origin;
  var lang = script.getAttribute("data-lang");
  var src = origin + "/chat?embed=1" + (lang ? "&lang=" + encodeURIComponent(lang) : "");
  var german = (lang || navigator.language || "").toLowerCase().indexOf("de") === 0;
  var labels = german ? { open: "Chat öffnen", close: "Chat schließen", title: "Helpdesk-Chat" }
                      : { open: "Open chat", close: "Close chat", title: "Helpdesk chat" };

  var button = document.createElement("button");
  button.id = "helpdesk-chat-launcher";
  button.type = "button";
  button.textContent = "💬";
  button.setAttribute("aria-label", labels.open);
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "helpdesk-chat-frame");
  button.style.cssText = "position:fixed;right:1rem;bottom:1rem;z-index:2147483646;width:3.5rem;height:3.5rem;" +
    "border-radius:50%;border:0;background:#1f4e8c;color:#fff;font-size:1.5rem;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)";

  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "helpdesk-chat-frame";
      frame.src = src;
      frame.title = labels.title;
      frame.style.cssText = "position:fixed;right:1rem;bottom:5.5rem;z-index:2147483646;border:0;border-radius:.6rem;" +
        "box-shadow:0 4px 16px rgba(0,0,0,.3);background:#fff;width:min(26rem,calc(100vw - 2rem));height:min(38rem,calc(100vh - 7rem))";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    var open = !frame.hidden;
    button.setAttribute("aria-expanded", String(open));
    button.setAttribute("aria-label", open ? labels.close : labels.open);
    if (open) frame.focus();
  });
  document.body.appendChild(button);
})();
