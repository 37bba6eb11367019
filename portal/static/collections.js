// The favourite button toggles in place; without this script it is a plain form POST.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content;

  function show(form, on) {
    form.querySelector("[data-favorite-value]").value = on ? "0" : "1";
    const button = form.querySelector("button");
    button.setAttribute("aria-pressed", on ? "true" : "false");
    form.querySelector("[data-favorite-star]").textContent = on ? "★" : "☆";
  }

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-favorite-form]");
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector("button");
    if (button.disabled) return;
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json", "X-CSRFToken": csrf || "" },
      credentials: "same-origin",
    })
      .then((response) => response.json().then((body) => ({ ok: response.ok, body })))
      .then(({ ok, body }) => {
        if (!ok) throw new Error((body.error && body.error.message) || "Could not change the favourite.");
        // Every button for the same item on the page (a tile and a list, say) follows.
        document.querySelectorAll("form[data-favorite-form]").forEach((other) => {
          if (other.action === form.action) show(other, body.favorite);
        });
      })
      .catch(() => form.submit())  // fall back to the plain form: the server answers with a page
      .finally(() => { button.disabled = false; });
  });
})();
