// Decks: "Add to deck" buttons feed the tray (the deck in progress); the editor
// reorders slides by drag and drop or with Up/Down, and removes them, before Save.
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
