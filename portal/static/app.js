// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content;
  window.collateralCsrf = csrf;

  // Upload forms: send with XHR to show a progress bar, then go to the new asset.
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const bar = form.querySelector("[data-progress]");
      const text = form.querySelector("[data-progress-text]");
      const error = form.querySelector("[data-upload-error]");
      const xhr = new XMLHttpRequest();
      xhr.open(form.method, form.action || window.location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable || !bar) return;
        bar.hidden = false;
        const pct = Math.round((100 * e.loaded) / e.total);
        bar.firstElementChild.style.width = pct + "%";
        if (text) text.textContent = "Uploading… " + pct + "%";
      });
      xhr.addEventListener("load", () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status === 201 && body.url) {
          window.location.href = body.url + (body.duplicates && body.duplicates.length ? "?duplicate=1" : "");
          return;
        }
        if (error) {
          const fields = body.error && body.error.fields ? Object.values(body.error.fields).join(" ") : "";
          error.textContent = ((body.error && body.error.message) || ("Upload failed (" + xhr.status + ")")) + " " + fields;
          error.hidden = false;
        }
        if (text) text.textContent = "";
      });
      xhr.addEventListener("error", () => {
        if (error) { error.textContent = "The upload was interrupted; nothing was saved. Try again."; error.hidden = false; }
      });
      xhr.send(new FormData(form));
    });
  });

  // Asset page: follow processing until it is ready or failed.
  const box = document.getElementById("processing");
  if (box && box.dataset.state === "pending") {
    const poll = () => fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then((r) => r.json())
      .then((v) => {
        if (!v) return;
        const state = box.querySelector("[data-processing-state]");
        const detail = box.querySelector("[data-processing-detail]");
        const bar = box.querySelector("[data-processing-bar]");
        if (v.progress && v.progress.total) {
          detail.textContent = v.progress.done + " of " + v.progress.total;
          if (bar) bar.style.width = Math.round((100 * v.progress.done) / v.progress.total) + "%";
        }
        if (v.processing !== "pending") { window.location.reload(); return; }
        state.textContent = v.processing;
        setTimeout(poll, 1500);
      })
      .catch(() => setTimeout(poll, 5000));
    setTimeout(poll, 1000);
  }
})();
