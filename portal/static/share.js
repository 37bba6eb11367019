// The buyer's page of a share link: a page-by-page viewer of what was shared, and
// the time spent on each page, sent in batches with navigator.sendBeacon when the
// page is hidden or left (and every 20 s while it is read).
(function () {
  "use strict";
  var viewer = document.getElementById("share-viewer");
  if (!viewer) return;
  var total = parseInt(viewer.getAttribute("data-pages"), 10) || 1;
  var pageUrl = viewer.getAttribute("data-page-url");
  var beaconUrl = viewer.getAttribute("data-beacon-url");
  var item = parseInt(viewer.getAttribute("data-beacon-item") || "", 10);  // a room's item, else NaN
  var image = viewer.querySelector("[data-pages-image]");
  var status = viewer.querySelector("[data-pages-status]");
  var prev = viewer.querySelector("[data-pages-prev]");
  var next = viewer.querySelector("[data-pages-next]");
  var current = 1;
  var since = document.visibilityState === "visible" ? Date.now() : null;
  var pending = {};

  function note() {
    if (since === null) return;
    var seconds = (Date.now() - since) / 1000;
    since = Date.now();
    if (seconds > 0) pending[current] = (pending[current] || 0) + seconds;
  }

  function flush() {
    note();
    var pages = Object.keys(pending).map(function (number) {
      return { number: parseInt(number, 10), seconds: Math.round(pending[number] * 10) / 10 };
    });
    pending = {};
    if (!pages.length) return;
    var body = JSON.stringify(isNaN(item) ? { pages: pages } : { item: item, pages: pages });
    if (navigator.sendBeacon && navigator.sendBeacon(beaconUrl, new Blob([body], { type: "application/json" }))) return;
    fetch(beaconUrl, { method: "POST", body: body, keepalive: true, credentials: "same-origin",
                       headers: { "Content-Type": "application/json" } });
  }

  function show(number) {
    if (number < 1 || number > total || number === current) return;
    note();
    current = number;
    image.src = pageUrl + number + ".png";
    image.alt = "Page " + number + " of " + total;
    status.textContent = "Page " + number + " of " + total;
    prev.disabled = current === 1;
    next.disabled = current === total;
  }

  prev.disabled = true;
  next.disabled = total === 1;
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight" || event.key === "PageDown") show(current + 1);
    if (event.key === "ArrowLeft" || event.key === "PageUp") show(current - 1);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); since = null; } else { since = Date.now(); }
  });
  window.addEventListener("pagehide", flush);
  setInterval(function () { if (since !== null) flush(); }, 20000);
})();
