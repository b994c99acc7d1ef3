// The inbox: j/k/Enter/r/e/a shortcuts, select-all, and the live "new mentions" banner.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.row"));
  var current = -1;

  function select(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("selected", i === current); });
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function selected() { return current >= 0 ? rows[current] : null; }

  function setCell(row, selector, text, className) {
    var cell = row.querySelector(selector);
    if (!cell) return;
    cell.textContent = text;
    if (className) cell.className = className;
  }

  function resolve(row) {
    Earshot.post(row.dataset.statusUrl, { status: "resolved" }).then(function (result) {
      if (!result.ok) { Earshot.toast(result.data.message || "Could not resolve.", true); return; }
      setCell(row, ".status", "resolved", "status status-resolved");
      row.classList.add("done");
    });
  }

  function assignToMe(row) {
    Earshot.post(row.dataset.assignUrl, { assignee: "me" }).then(function (result) {
      if (!result.ok) { Earshot.toast(result.data.message || "Could not assign.", true); return; }
      setCell(row, ".assignee", result.data.assignee || "—");
    });
  }

  document.addEventListener("keydown", function (event) {
    if (Earshot.typing(event)) return;
    var row = selected();
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "Enter": if (row) window.location.href = row.dataset.url; break;
      case "r": if (row && row.dataset.replyUrl) window.location.href = row.dataset.replyUrl; break;
      case "e": if (row && row.dataset.statusUrl) resolve(row); break;
      case "a": if (row && row.dataset.assignUrl) assignToMe(row); break;
      default: return;
    }
    event.preventDefault();
  });

  rows.forEach(function (row, i) {
    row.addEventListener("click", function (event) {
      if (!event.target.closest("a, input, button")) select(i);
    });
  });

  var all = document.querySelector("[data-select-all]");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = all.checked; });
    });
  }

  // Live banner: poll for mentions newer than the page, show them above the list, keep the place.
  var banner = document.getElementById("new-banner");
  if (!banner) return;
  var since = banner.dataset.since;
  var seen = 0;
  var list = banner.querySelector(".new-list");

  function addItem(item) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = "@" + item.author + " (" + item.brand + "): " + item.text;
    li.appendChild(link);
    list.insertBefore(li, list.firstChild);
  }

  function poll() {
    var url = new URL(banner.dataset.pollUrl, window.location.href);
    url.searchParams.set("since", since);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.count) return;
        since = data.newest_id;
        seen += data.count;
        data.mentions.slice().reverse().forEach(addItem);
        banner.querySelector(".new-count").textContent =
          seen + (data.more ? "+" : "") + " new mention" + (seen === 1 ? "" : "s") + " since you opened this page.";
        banner.hidden = false;
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  banner.querySelector("[data-dismiss]").addEventListener("click", function () {
    banner.hidden = true;
    seen = 0;
    list.textContent = "";
  });
  setInterval(poll, Math.max(1, Number(banner.dataset.every)) * 1000);
})();
