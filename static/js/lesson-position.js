// Restores and saves where the learner is in a lesson. The element with
// data-position-url carries the JSON endpoint, data-csrf-token and
// data-position: thousandths of the page height for a text lesson (set on
// the article), or of the running time for a video (set on the video).
(function () {
  "use strict";
  var element = document.querySelector("[data-position-url]");
  if (!element || !window.fetch) {
    return;
  }
  var url = element.getAttribute("data-position-url");
  var token = element.getAttribute("data-csrf-token");
  var saved = parseInt(element.getAttribute("data-position"), 10) || 0;
  var isVideo = element.tagName === "VIDEO";
  var lastSent = saved;
  var pending = null;

  function clamp(value) {
    return Math.min(1000, Math.max(0, Math.round(value)));
  }

  function scrollable() {
    return Math.max(1, document.documentElement.scrollHeight - window.innerHeight);
  }

  function currentPosition() {
    if (isVideo) {
      return element.duration ? clamp((element.currentTime / element.duration) * 1000) : lastSent;
    }
    return clamp((window.scrollY / scrollable()) * 1000);
  }

  function send() {
    pending = null;
    var value = currentPosition();
    if (Math.abs(value - lastSent) < 20) {
      return;
    }
    lastSent = value;
    window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": token
      },
      body: JSON.stringify({ position: value })
    }).catch(function () {
      // A lost update only means the next visit starts a little earlier.
    });
  }

  function sendSoon() {
    if (pending === null) {
      pending = window.setTimeout(send, isVideo ? 5000 : 1500);
    }
  }

  if (isVideo) {
    element.addEventListener("loadedmetadata", function () {
      if (saved > 0 && saved < 990 && element.duration) {
        element.currentTime = (saved / 1000) * element.duration;
      }
    });
    element.addEventListener("timeupdate", sendSoon);
    element.addEventListener("pause", send);
  } else {
    if (saved > 0) {
      window.scrollTo(0, Math.round((saved / 1000) * scrollable()));
    }
    window.addEventListener("scroll", sendSoon, { passive: true });
  }
  window.addEventListener("pagehide", send);
})();
