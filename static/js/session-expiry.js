// Warns before a login ends for lack of requests, and keeps it when the user
// asks.
// The element #session-expiry (templates/base.html) carries the seconds left
// when the page was made, the warning lead, the keepalive endpoint, the CSRF
// token and the texts. The login is kept only when the user clicks "stay
// logged in", or without asking when the user has typed in a form since the
// last request: an open page alone never keeps a login.
//
// Tabs of the same user share the end time through localStorage, so a page
// opened in another tab moves the warning of this one. Responses to the page
// scripts' own requests carry the X-Login-Seconds-Left header, which this
// script reads by wrapping window.fetch.
(function () {
  "use strict";
  var box = document.getElementById("session-expiry");
  if (!box || !window.fetch) {
    return;
  }
  var data = box.dataset;
  var text = document.getElementById("session-expiry-text");
  var keepButton = document.getElementById("session-expiry-keep");
  var loginLink = document.getElementById("session-expiry-login");
  var storageKey = "shuren:login-ends:" + data.userId;
  var warningMs = parseFloat(data.warningSeconds) * 1000;
  var endsAt = Date.now() + parseInt(data.secondsLeft, 10) * 1000;
  var extendable = data.extendable === "true";
  var lastContact = Date.now();
  var typedAt = 0;
  var ended = false;
  var busy = false;
  var keptUntil = 0;
  var shownMinutes = null;
  // The message of a rejected or failed keepalive stays until the next click,
  // until the end moves past the warning, or until the login ends.
  var problemShown = false;

  function readShared() {
    try {
      var value = parseInt(window.localStorage.getItem(storageKey), 10);
      return isNaN(value) ? null : value;
    } catch (error) {
      return null;
    }
  }

  function writeShared() {
    try {
      window.localStorage.setItem(storageKey, String(endsAt));
    } catch (error) {
      // Without storage each tab keeps its own time.
    }
  }

  // Takes a later end time learned from this tab's requests.
  function learn(secondsLeft, canExtend) {
    var candidate = Date.now() + secondsLeft * 1000;
    lastContact = Date.now();
    if (typeof canExtend === "boolean") {
      extendable = canExtend;
    }
    if (candidate > endsAt || typeof canExtend === "boolean") {
      endsAt = candidate;
      var shared = readShared();
      if (shared === null || shared < endsAt) {
        writeShared();
      }
    }
  }

  function setText(message) {
    if (text.textContent !== message) {
      text.textContent = message;
    }
  }

  function hide() {
    box.hidden = true;
    shownMinutes = null;
    problemShown = false;
  }

  function showWarning(remainingMs) {
    box.hidden = false;
    loginLink.hidden = true;
    keepButton.hidden = !extendable;
    if (!extendable) {
      setText(data.finalText);
      return;
    }
    var minutes = Math.max(1, Math.ceil(remainingMs / 60000));
    if (minutes !== shownMinutes) {
      shownMinutes = minutes;
      var template = minutes === 1 ? data.minutesOneText : data.minutesOtherText;
      setText(template.replace("{minutes}", String(minutes)));
    }
  }

  function showEnded(message) {
    ended = true;
    box.hidden = false;
    keepButton.hidden = true;
    loginLink.hidden = false;
    setText(message || data.endedText);
    box.classList.add("session-ended");
  }

  function showProblem(message) {
    box.hidden = false;
    setText(message);
    shownMinutes = null;
    problemShown = true;
  }

  function keepAlive(silent) {
    if (busy || ended) {
      return;
    }
    busy = true;
    originalFetch(data.keepaliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "X-Requested-With": "fetch",
        "X-CSRFToken": data.csrfToken
      }
    }).then(function (response) {
      return response.json().catch(function () {
        return null;
      }).then(function (body) {
        busy = false;
        if (response.ok && body && typeof body.seconds_left === "number") {
          typedAt = 0;
          learn(body.seconds_left, body.extendable === true);
          if (!silent) {
            keptUntil = Date.now() + 4000;
            box.hidden = false;
            keepButton.hidden = true;
            setText(data.keptText);
          }
          return;
        }
        // A failed attempt without asking is not repeated: the warning shows.
        typedAt = 0;
        if (response.status === 401) {
          showEnded(body && body.message);
        } else if (response.status === 429 && !silent) {
          // The limit counts calls per hour: a minute's wait does not help.
          showProblem(data.limitedText);
        } else if (!silent) {
          showProblem(data.refusedText);
        }
      });
    }, function () {
      busy = false;
      typedAt = 0;
      if (!silent) {
        showProblem(data.failedText);
      }
    });
  }

  function tick() {
    if (ended) {
      return;
    }
    var shared = readShared();
    if (shared !== null && shared > endsAt) {
      endsAt = shared;
    }
    var now = Date.now();
    var remaining = endsAt - now;
    if (remaining <= 0) {
      showEnded();
      return;
    }
    if (now < keptUntil) {
      return;
    }
    if (remaining > warningMs) {
      hide();
      return;
    }
    if (typedAt > lastContact && extendable) {
      keepAlive(true);
      return;
    }
    if (!busy && !problemShown) {
      showWarning(remaining);
    }
  }

  var originalFetch = window.fetch.bind(window);
  window.fetch = function () {
    return originalFetch.apply(null, arguments).then(function (response) {
      var left = response.headers.get("X-Login-Seconds-Left");
      if (left !== null && !isNaN(parseInt(left, 10))) {
        learn(parseInt(left, 10));
      } else if (response.status === 401) {
        showEnded();
      }
      return response;
    });
  };

  keepButton.addEventListener("click", function () {
    problemShown = false;
    keepAlive(false);
  });

  function noteTyping(event) {
    var target = event.target;
    if (event.isTrusted && target && target.form) {
      typedAt = Date.now();
    }
  }
  document.addEventListener("input", noteTyping, true);
  document.addEventListener("change", noteTyping, true);

  window.addEventListener("storage", function (event) {
    if (event.key === storageKey && event.newValue === null && !ended) {
      // Another tab logged out.
      showEnded();
    }
  });

  var shared = readShared();
  if (shared === null || shared < endsAt) {
    writeShared();
  }
  window.setInterval(tick, 1000);
  tick();
})();
