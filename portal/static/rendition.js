// A page showing a deck's slide pictures while its PDF is being made (the rep's deck view,
// a buyer's deck link): ask the PDF's address now and then (202 while it is being made) and
// reload once it answers anything else, so the page shows the viewer (or why there is none).
(function () {
  "use strict";
  var note = document.querySelector("[data-rendition-poll]");
  if (!note || !window.fetch) return;
  var url = note.getAttribute("data-rendition-poll");
  var tries = 0;
  var MAX_TRIES = 120; // about ten minutes: a deck still not ready by then is read as pictures

  function check() {
    tries += 1;
    fetch(url, { method: "HEAD", credentials: "same-origin", redirect: "manual", cache: "no-store" })
      .then(function (response) {
        if (response.status === 202) {
          if (tries < MAX_TRIES) setTimeout(check, 5000);
          return;
        }
        window.location.reload();
      })
      .catch(function () { if (tries < MAX_TRIES) setTimeout(check, 5000); });
  }
  setTimeout(check, 3000);
})();
