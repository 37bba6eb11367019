// Draws the per-slide outcomes chart of the asset analytics page from the JSON the page embeds.
(function () {
  "use strict";
  const node = document.getElementById("slide-evidence-data");
  const canvas = document.getElementById("slide-evidence-chart");
  if (!node || !canvas || !window.Chart) return;
  const data = JSON.parse(node.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        {label: "Won", data: data.won, backgroundColor: "#54a24b", stack: "outcomes"},
        {label: "Lost", data: data.lost, backgroundColor: "#e45756", stack: "outcomes"},
        {label: "Open", data: data.open, backgroundColor: "#bab0ac", stack: "outcomes"},
        {label: "Deck inclusions", data: data.inclusions, backgroundColor: "#b279a2", stack: "inclusions"},
        {label: "Buyer visits that skipped it", data: data.skipped, backgroundColor: "#9d755d", stack: "skipped"},
        {label: "Buyers' seconds on average", data: data.buyer_average_seconds, type: "line",
         borderColor: "#4c78a8", backgroundColor: "#4c78a8", yAxisID: "seconds"},
      ],
    },
    options: {
      animation: false,
      scales: {
        y: {beginAtZero: true, ticks: {precision: 0}, title: {display: true, text: "Deals, inclusions, visits"}},
        seconds: {beginAtZero: true, position: "right", grid: {drawOnChartArea: false},
                  title: {display: true, text: "Seconds"}},
      },
    },
  });
})();
