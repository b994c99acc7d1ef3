// Earshot: shared helpers, the shortcut help and live SLA clocks. No framework, no inline script.
(function () {
  "use strict";
  var csrf = document.body.dataset.csrf;

  function post(url, data) {
    var body = new URLSearchParams(data || {});
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf }
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok && json.ok, data: json }; });
    });
  }

  function typing(event) {
    var t = event.target;
    return t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName) ||
      event.ctrlKey || event.metaKey || event.altKey;
  }

  function toast(message, isError) {
    var box = document.querySelector(".flashes");
    if (!box) {
      box = document.createElement("div");
      box.className = "flashes";
      document.querySelector("main").before(box);
    }
    var p = document.createElement("p");
    p.className = "flash " + (isError ? "flash-error" : "flash-info");
    p.textContent = message;
    box.appendChild(p);
  }

  function duration(minutes) {
    minutes = Math.max(0, Math.floor(minutes));
    if (minutes < 60) return minutes + "m";
    if (minutes < 1440) return Math.floor(minutes / 60) + "h " + (minutes % 60) + "m";
    return Math.floor(minutes / 1440) + "d " + Math.floor((minutes % 1440) / 60) + "h";
  }

  function tickClocks() {
    document.querySelectorAll(".sla[data-created]").forEach(function (el) {
      var minutes = (Date.now() - Date.parse(el.dataset.created)) / 60000;
      var target = Number(el.dataset.target);
      var state = minutes < target / 2 ? "ok" : minutes < target ? "warn" : "late";
      el.textContent = duration(minutes);
      el.className = "sla sla-" + state;
    });
  }

  function toggleHelp() {
    var help = document.getElementById("help");
    if (help) help.hidden = !help.hidden;
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-help-toggle]")) toggleHelp();
  });
  document.addEventListener("keydown", function (event) {
    if (typing(event)) return;
    if (event.key === "?") { toggleHelp(); event.preventDefault(); }
    if (event.key === "Escape") { var h = document.getElementById("help"); if (h) h.hidden = true; }
    if (event.key === "/") {
      var search = document.getElementById("search");
      if (search) { search.focus(); event.preventDefault(); }
    }
  });
  setInterval(tickClocks, 30000);

  window.Earshot = { post: post, typing: typing, toast: toast };
})();
