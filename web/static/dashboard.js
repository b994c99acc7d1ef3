// The reputation dashboard's charts, drawn by the vendored Chart.js from the page's JSON data block.
// The same figures are in the tables beside each chart, so the page reads fine without this script.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = { negative: "#d64545", neutral: "#9aa3b2", positive: "#2f9e5b", unscored: "#d9dde4" };
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.size = 11;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  function minutesTick(value) { return value + " min"; }

  draw("chart-volume", {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: ["negative", "neutral", "positive", "unscored"].map(function (key) {
        return { label: key, data: data.volume[key], backgroundColor: colours[key], stack: "all" };
      })
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
  });

  draw("chart-net", {
    type: "line",
    data: { labels: data.labels, datasets: [{ label: "net sentiment", data: data.net, borderColor: "#2f5bea",
      backgroundColor: "#2f5bea", spanGaps: false, tension: 0.2 }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { min: -100, max: 100 } } }
  });

  draw("chart-sov", {
    type: "bar",
    data: { labels: data.sov.labels, datasets: [{ label: "mentions", data: data.sov.values,
      backgroundColor: data.sov.competitor.map(function (c) { return c ? "#9aa3b2" : "#2f5bea"; }) }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } }
  });

  draw("chart-themes", {
    type: "bar",
    data: { labels: data.themes.labels, datasets: [{ label: "negative mentions", data: data.themes.values,
      backgroundColor: colours.negative }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } }
  });

  draw("chart-agents", {
    type: "bar",
    data: { labels: data.agents.labels, datasets: [
      { label: "median", data: data.agents.median, backgroundColor: "#2f5bea" },
      { label: "p90", data: data.agents.p90, backgroundColor: "#9db1f5" }
    ] },
    options: { scales: { y: { beginAtZero: true, ticks: { callback: minutesTick } } } }
  });

  document.body.setAttribute("data-charts", "ready");
})();
