// Decks: "Add to deck" buttons feed the tray (the deck in progress); the editor
// reorders slides by drag and drop or with Up/Down, and removes them, before Save.
// Download asks the server to assemble the deck, shows its progress (an ARIA live
// status) while it polls, and downloads the file when it is ready.
// Without JavaScript the editor's buttons still work as plain form submits.
(function () {
  "use strict";

  function csrfToken() {
    return window.collateralCsrf || document.querySelector('meta[name="csrf-token"]')?.content || "";
  }

  // --- the tray bar -----------------------------------------------------------
  const tray = document.getElementById("deck-tray");

  function showTray(body) {
    if (!tray) return;
    const count = body.count || 0;
    tray.querySelector("[data-tray-count]").textContent = String(count);
    tray.querySelector("[data-tray-unit]").textContent = count === 1 ? "slide" : "slides";
    const openWrap = tray.querySelector("[data-tray-open-wrap]");
    const empty = tray.querySelector("[data-tray-empty]");
    if (body.url) {
      tray.querySelector("[data-tray-open]").href = body.url;
      openWrap.hidden = false;
      if (empty) empty.hidden = true;
    }
    const badge = document.querySelector('[data-testid="badge-decks.index"]');
    if (badge) badge.textContent = String(count);
    tray.classList.remove("pulse");
    void tray.offsetWidth; // restart the animation
    tray.classList.add("pulse");
  }

  function trayMessage(text) {
    const box = tray && tray.querySelector("[data-tray-message]");
    if (box) box.textContent = text || "";
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-slide]");
    if (!button || !tray) return;
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    const label = button.textContent;
    trayMessage("");
    fetch(tray.dataset.addUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ page_id: Number(button.dataset.addSlide) }),
      credentials: "same-origin",
    })
      .then((response) => response.json().catch(() => ({})).then((body) => ({ response, body })))
      .then(({ response, body }) => {
        if (!response.ok) {
          const message = (body.error && body.error.message) || "Could not add the slide (" + response.status + ").";
          trayMessage(message);
          button.textContent = label;
          return;
        }
        showTray(body);
        button.textContent = "Added ✓";
        button.dataset.added = "yes";
        setTimeout(() => { button.textContent = label; }, 1500);
      })
      .catch(() => { trayMessage("The slide was not added: the connection failed. Try again."); button.textContent = label; })
      .finally(() => { button.disabled = false; });
  });

  // --- confirmations --------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  // --- downloading: the deck is assembled in the background; show progress, then download ---
  const build = document.querySelector("[data-deck-build]");
  const downloadLink = document.querySelector("[data-deck-download]");

  function showBuild(body) {
    const status = build.querySelector("[data-deck-build-status]");
    const bar = build.querySelector("[data-deck-build-progress]");
    build.dataset.state = body.status;
    const inProgress = body.status === "pending" || body.status === "building";
    bar.hidden = !inProgress;
    if (inProgress) {
      bar.max = Math.max(1, body.progress.total);
      bar.value = body.progress.done;
      status.textContent = body.status === "pending"
        ? "Waiting to assemble the deck…"
        : "Assembling the deck: " + body.progress.done + " of " + body.progress.total + (body.progress.total === 1 ? " slide…" : " slides…");
    } else if (body.status === "ready") {
      status.textContent = "The deck is ready; the download starts now.";
    } else if (body.status === "failed") {
      status.textContent = "The deck could not be assembled: " + (body.error || "unknown reason.");
    } else {
      status.textContent = "";
    }
    if (downloadLink) downloadLink.setAttribute("aria-busy", inProgress ? "true" : "false");
    return inProgress;
  }

  function followBuild(body, download) {
    if (showBuild(body)) {
      setTimeout(() => {
        fetch(build.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then((response) => response.json())
          .then((next) => followBuild(next, download))
          .catch(() => { build.querySelector("[data-deck-build-status]").textContent = "Lost touch with the server; reload the page."; });
      }, 1000);
    } else if (body.status === "ready" && download) {
      window.location.href = body.download_url;
    } else if (body.status === "ready") {
      build.querySelector("[data-deck-build-status]").textContent = "The deck is ready to download.";
    }
  }

  if (build && downloadLink) {
    downloadLink.addEventListener("click", (event) => {
      event.preventDefault();
      if (downloadLink.getAttribute("aria-busy") === "true") return;
      downloadLink.setAttribute("aria-busy", "true");
      fetch(downloadLink.dataset.buildUrl, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      })
        .then((response) => response.json().catch(() => ({})).then((body) => ({ response, body })))
        .then(({ response, body }) => {
          if (!response.ok) {
            const message = (body.error && body.error.message) || "The deck could not be assembled (" + response.status + ").";
            showBuild({ status: "failed", error: message, progress: { done: 0, total: 0 } });
            return;
          }
          followBuild(body, true);
        })
        .catch(() => {
          downloadLink.setAttribute("aria-busy", "false");
          build.querySelector("[data-deck-build-status]").textContent = "The connection failed; try again.";
        });
    });
    // A build already under way (started here or elsewhere): follow it, without downloading on its own.
    if (build.dataset.state === "pending" || build.dataset.state === "building") {
      const bar = build.querySelector("[data-deck-build-progress]");
      followBuild({ status: build.dataset.state, progress: { done: Number(bar.value), total: Number(bar.max) } }, false);
    }
  }

  // --- the editor ------------------------------------------------------------------
  const editor = document.querySelector("[data-deck-editor]");
  if (!editor) return;
  const list = editor.querySelector("[data-deck-slides]");
  const dirty = editor.querySelector("[data-dirty]");

  function changed() {
    if (dirty) dirty.hidden = false;
    list.querySelectorAll("[data-position]").forEach((el, i) => { el.textContent = String(i + 1); });
    // Positions on the server are those of the saved order: save before swapping a slide's version.
    document.querySelectorAll("[data-refresh]").forEach((b) => {
      b.disabled = true;
      b.title = "Save your changes first";
    });
  }

  editor.addEventListener("click", (event) => {
    const button = event.target.closest("[data-move], [data-remove]");
    if (!button) return;
    event.preventDefault();
    const item = button.closest("li");
    if (button.dataset.move === "up" && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (button.dataset.move === "down" && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    } else if (button.hasAttribute("data-remove")) {
      item.remove();
    } else {
      return;
    }
    changed();
    button.focus();
  });

  editor.querySelector("input[name=title]")?.addEventListener("input", () => { if (dirty) dirty.hidden = false; });

  // HTML5 drag and drop: drop a slide above or below the one under the pointer.
  let dragged = null;
  list.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("li");
    if (!dragged) return;
    dragged.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.pageId || "");
  });
  list.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const over = event.target.closest("li");
    if (!over || over === dragged) return;
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextElementSibling : over);
  });
  list.addEventListener("drop", (event) => { if (dragged) event.preventDefault(); });
  list.addEventListener("dragend", () => {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    dragged = null;
    changed();
  });

  window.addEventListener("beforeunload", (event) => {
    if (dirty && !dirty.hidden && !editor.dataset.submitting) event.preventDefault();
  });
  editor.addEventListener("submit", () => { editor.dataset.submitting = "yes"; });
})();
