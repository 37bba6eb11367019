// Draws the analytics charts from the JSON the page embeds (the server computes every number).
(function () {
  "use strict";
  const colors = {view: "#4c78a8", download: "#f58518", search_click: "#54a24b", deck_inclusion: "#b279a2",
                  reported: "#e45756", active_reps: "#333"};
  const quadrantColors = {promote: "#54a24b", fix: "#f58518", promote_better: "#4c78a8", retire: "#e45756"};

  function data(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  const usage = data("usage-data");
  if (usage && window.Chart) {
    const datasets = Object.keys(usage.names).map(function (kind) {
      return {label: usage.names[kind], data: usage.series[kind], borderColor: colors[kind], backgroundColor: colors[kind],
              tension: 0.2, pointRadius: 2};
    });
    if (usage.series.active_reps) {
      datasets.push({label: "Active reps", data: usage.series.active_reps, borderColor: colors.active_reps,
                     backgroundColor: colors.active_reps, borderDash: [4, 3], yAxisID: "reps", pointRadius: 2});
    }
    const scales = {y: {beginAtZero: true, title: {display: true, text: "Events"}}};
    if (usage.series.active_reps) {
      scales.reps = {beginAtZero: true, position: "right", grid: {drawOnChartArea: false}, title: {display: true, text: "Reps"}};
    }
    new Chart(document.getElementById("usage-chart"), {
      type: "line", data: {labels: usage.labels, datasets: datasets},
      options: {animation: false, interaction: {mode: "index", intersect: false}, scales: scales}
    });
  }

  const quadrant = data("quadrant-data");
  if (quadrant && window.Chart) {
    const groups = {};
    quadrant.points.forEach(function (p) { (groups[p.quadrant] = groups[p.quadrant] || []).push(p); });
    const names = {promote: "Used and liked", fix: "Used, disliked", promote_better: "Liked, unused", retire: "Unused, disliked"};
    new Chart(document.getElementById("quadrant-chart"), {
      type: "scatter",
      data: {datasets: Object.keys(names).map(function (key) {
        return {label: names[key], data: groups[key] || [], backgroundColor: quadrantColors[key]};
      })},
      options: {
        animation: false,
        parsing: {xAxisKey: "x", yAxisKey: "y"},
        scales: {x: {type: "logarithmic", title: {display: true, text: "Uses in the range"}},
                 y: {min: 1, max: 5, title: {display: true, text: "Average rating"}}},
        plugins: {tooltip: {callbacks: {label: function (c) { return c.raw.label + ": " + c.raw.x + " uses, " + c.raw.y + " stars"; }}}}
      }
    });
  }
})();

// The per-asset page: seconds read per page in the viewer (portal/viewer/attention.py).
(function () {
  "use strict";
  const node = document.getElementById("attention-data");
  if (!node || !window.Chart) return;
  const attention = JSON.parse(node.textContent);
  new Chart(document.getElementById("attention-chart"), {
    type: "bar",
    data: {labels: attention.labels, datasets: [{label: "Seconds read", data: attention.seconds, backgroundColor: "#4c78a8"}]},
    options: {animation: false, scales: {x: {title: {display: true, text: "Page"}},
                                         y: {beginAtZero: true, title: {display: true, text: "Seconds"}}}}
  });
})();
