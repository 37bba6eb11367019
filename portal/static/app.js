// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content;
  window.collateralCsrf = csrf;
  document.documentElement.classList.add("js");  // the CSS folds the menu only when it can be opened

  // Narrow screens: "Menu" shows and hides the navigation; Escape closes it.
  document.querySelectorAll("[data-menu-toggle]").forEach((button) => {
    const root = button.closest("[data-menu-root]");
    const setOpen = (open) => {
      root.classList.toggle("menu-open", open);
      button.setAttribute("aria-expanded", String(open));
    };
    button.addEventListener("click", () => setOpen(!root.classList.contains("menu-open")));
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && root.classList.contains("menu-open")) { setOpen(false); button.focus(); }
    });
  });

  // Upload forms: send with XHR to show a progress bar, then go to the new asset.
  // One upload at a time per form (a double click sends one), and a file that is
  // already another item's current file offers: a new version of it, keep both, cancel.
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    let sending = false;
    const buttons = () => form.querySelectorAll("button[type=submit]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (sending) return;
      sending = true;
      buttons().forEach((b) => { b.disabled = true; });
      const bar = form.querySelector("[data-progress]");
      const text = form.querySelector("[data-progress-text]");
      const error = form.querySelector("[data-upload-error]");
      const duplicate = form.querySelector("[data-duplicate]");
      if (error) error.hidden = true;
      const done = () => { sending = false; buttons().forEach((b) => { b.disabled = false; }); };
      const xhr = new XMLHttpRequest();
      xhr.open(form.method, form.action || window.location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable || !bar) return;
        bar.hidden = false;
        const pct = Math.round((100 * e.loaded) / e.total);
        bar.firstElementChild.style.width = pct + "%";
        bar.setAttribute("aria-valuenow", String(pct));
        if (text) text.textContent = "Uploading… " + pct + "%";
      });
      xhr.addEventListener("load", () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status === 201 && body.url) {
          window.location.href = body.url;
          return;
        }
        done();
        if (text) text.textContent = "";
        if (bar) bar.hidden = true;
        const existing = body.error && body.error.existing;
        if (xhr.status === 409 && body.error.code === "duplicate_file" && existing && duplicate) {
          duplicate.querySelector("[data-duplicate-title]").textContent = existing.title;
          duplicate.querySelector("[data-duplicate-link]").href = "/assets/" + existing.id;
          duplicate.querySelector("[data-duplicate-version]").value = existing.id;
          duplicate.hidden = false;
          duplicate.scrollIntoView({ block: "nearest" });
          return;
        }
        if (error) {
          const fields = body.error && body.error.fields ? Object.values(body.error.fields).join(" ") : "";
          error.textContent = ((body.error && body.error.message) || ("Upload failed (" + xhr.status + ")")) + " " + fields;
          error.hidden = false;
        }
      });
      xhr.addEventListener("error", () => {
        done();
        if (error) { error.textContent = "The upload was interrupted; nothing was saved. Try again."; error.hidden = false; }
      });
      // The button clicked (a duplicate choice) is sent with the form, as a plain submit would.
      const data = new FormData(form);
      if (event.submitter && event.submitter.name) data.append(event.submitter.name, event.submitter.value);
      xhr.send(data);
    });
  });

  // Upload form: the content type follows the file's kind until someone picks one.
  document.querySelectorAll("input[data-content-type-by-extension]").forEach((input) => {
    const select = input.form && input.form.querySelector("select[data-content-type]");
    if (!select) return;
    const kinds = JSON.parse(input.dataset.contentTypeByExtension);
    let chosen = false;
    select.addEventListener("change", () => { chosen = true; });
    input.addEventListener("change", () => {
      const name = input.files && input.files[0] ? input.files[0].name : "";
      const match = /\.([A-Za-z0-9]{1,10})$/.exec(name);
      if (!chosen) select.value = (match && kinds[match[1].toLowerCase()]) || "other";
    });
  });

  // Asset page: follow processing until it is ready or failed.
  const box = document.getElementById("processing");
  if (box && box.dataset.state === "pending") {
    const poll = () => fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then((r) => r.json())
      .then((v) => {
        if (!v) return;
        const detail = box.querySelector("[data-processing-detail]");
        const bar = box.querySelector("[data-processing-bar]");
        if (v.progress && v.progress.total) {
          const pct = Math.round((100 * v.progress.done) / v.progress.total);
          detail.textContent = v.progress.done + " of " + v.progress.total + (v.progress.total === 1 ? " page" : " pages");
          if (bar) {
            bar.style.width = pct + "%";
            bar.parentElement.setAttribute("aria-valuenow", String(pct));
          }
        }
        if (v.processing !== "pending") { window.location.reload(); return; }
        setTimeout(poll, 1500);
      })
      .catch(() => setTimeout(poll, 5000));
    setTimeout(poll, 1000);
  }

  // A table wider than its card scrolls sideways (app.css); it takes the keyboard focus
  // then, so that it can be scrolled without a mouse.
  const reachScrollers = () => document.querySelectorAll("main table, .table-scroll").forEach((el) => {
    const scrolls = el.scrollWidth > el.clientWidth + 1;
    if (scrolls && !el.hasAttribute("tabindex")) { el.tabIndex = 0; el.dataset.scrollFocus = ""; }
    else if (!scrolls && "scrollFocus" in el.dataset) { el.removeAttribute("tabindex"); delete el.dataset.scrollFocus; }
  });
  reachScrollers();
  window.addEventListener("resize", reachScrollers);

  // "Go back" links return through the history, like the browser's back button.
  document.querySelectorAll("a[data-go-back]").forEach((link) => {
    link.addEventListener("click", (event) => {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });

  // A checkbox with data-select-all="NAME" ticks or clears every checkbox named NAME.
  document.querySelectorAll("[data-select-all]").forEach((box) => {
    box.addEventListener("change", () => {
      document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`).forEach((item) => { item.checked = box.checked; });
    });
  });
})();
