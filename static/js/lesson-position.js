// Restores and saves how far down a text lesson the learner has read. The
// article carries data-position-url (the JSON endpoint), data-csrf-token and
// data-scroll (thousandths of the page height, from the server).
(function () {
  "use strict";
  var article = document.querySelector("[data-position-url]");
  if (!article || !window.fetch) {
    return;
  }
  var url = article.getAttribute("data-position-url");
  var token = article.getAttribute("data-csrf-token");
  var saved = parseInt(article.getAttribute("data-scroll"), 10) || 0;

  function scrollable() {
    return Math.max(1, document.documentElement.scrollHeight - window.innerHeight);
  }

  function currentPermille() {
    return Math.min(1000, Math.max(0, Math.round((window.scrollY / scrollable()) * 1000)));
  }

  if (saved > 0) {
    window.scrollTo(0, Math.round((saved / 1000) * scrollable()));
  }

  var lastSent = saved;
  var pending = null;

  function send() {
    pending = null;
    var value = currentPermille();
    if (Math.abs(value - lastSent) < 20) {
      return;
    }
    lastSent = value;
    window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ scroll: value })
    }).catch(function () {
      // A lost update only means the next visit starts a little higher up.
    });
  }

  window.addEventListener("scroll", function () {
    if (pending === null) {
      pending = window.setTimeout(send, 1500);
    }
  }, { passive: true });
  window.addEventListener("pagehide", send);
})();
