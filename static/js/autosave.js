// Saves the attempt form to the server whenever an answer changes, so a closed
// tab or a lost connection loses nothing. The server decides what counts. It
// rejects saves after the deadline with status 409 and the result page's URL.
// The status line distinguishes a lost connection from a save the server
// refused, so the learner knows whether to wait, reload or log in again.
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

  // Picks the status text for a save the server did not accept. The server
  // returns JSON: 400 with error "csrf" when the page's CSRF token expired and
  // 401 when the login expired. A redirect can only lead to the login page.
  function refusalText(response, data) {
    if (response.status === 401 || response.redirected) {
      return form.getAttribute("data-logged-out-text");
    }
    if (response.status === 400 && data && data.error === "csrf") {
      return form.getAttribute("data-expired-text");
    }
    return form.getAttribute("data-rejected-text");
  }

  function save() {
    timer = null;
    var body = new FormData(form);
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().catch(function () {
        return null;
      }).then(function (data) {
        if (response.status === 409 && data && data.redirect) {
          window.location.assign(data.redirect);
          return;
        }
        if (!response.ok || response.redirected || !data) {
          show(refusalText(response, data));
          return;
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
    }, function () {
      // fetch rejects only when no response arrived.
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
