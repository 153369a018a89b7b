// Saves the attempt form to the server whenever an answer changes, so a closed
// tab or a lost connection loses nothing. The server decides what counts. It
// rejects saves after the deadline with status 409 and the result page's URL.
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-autosave-url");
  var status = document.getElementById("autosave-status");
  var timer = null;
  var submitting = false;

  function show(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function save() {
    timer = null;
    var body = new FormData(form);
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.status === 409 && data.redirect) {
          window.location.assign(data.redirect);
          return;
        }
        if (!response.ok) {
          throw new Error("save failed");
        }
        form.setAttribute("data-saved-count", String(data.saved));
        if (data.ignored && data.ignored.length) {
          // The page offered an answer the server does not accept for its
          // question, so the saved answer was kept.
          show(form.getAttribute("data-ignored-text"));
        } else {
          show(form.getAttribute("data-saved-text"));
        }
      });
    }).catch(function () {
      show(form.getAttribute("data-failed-text"));
    });
  }

  function schedule(delay) {
    if (timer !== null) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(save, delay);
  }

  form.addEventListener("change", function () { schedule(0); });
  form.addEventListener("input", function () { schedule(800); });
  form.addEventListener("submit", function (event) {
    // A second click while the first submission is on its way is ignored here;
    // the server also records only one submission.
    if (submitting) {
      event.preventDefault();
    }
    submitting = true;
  });
})();
