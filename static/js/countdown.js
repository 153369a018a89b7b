// Counts down the time left on a timed quiz attempt. The server computes the
// starting value and enforces the deadline. At zero the page submits the
// attempt form with the answers on the page, as the server still accepts a
// submission for 30 seconds after the deadline. If that submission does not
// leave the page, it reloads once the grace period has passed, so the server
// closes the attempt and shows the result.
(function () {
  "use strict";
  var element = document.getElementById("countdown");
  if (!element) {
    return;
  }
  var secondsLeft = parseInt(element.getAttribute("data-seconds-left"), 10);
  if (isNaN(secondsLeft)) {
    return;
  }
  var endsAt = Date.now() + secondsLeft * 1000;
  // One second more than the server's 30-second grace after the deadline.
  var RELOAD_AFTER_MS = 31000;

  function submitAttempt() {
    var status = document.getElementById("autosave-status");
    var message = element.getAttribute("data-time-up-text");
    if (status && message) {
      status.textContent = message;
    }
    var form = document.getElementById("attempt-form");
    if (form && typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else if (form) {
      form.submit();
    }
  }

  function render() {
    var remaining = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    var minutes = Math.floor(remaining / 60);
    var seconds = remaining % 60;
    element.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    if (remaining === 0 && !finished) {
      finished = true;
      window.clearInterval(timer);
      submitAttempt();
      window.setTimeout(function () { window.location.reload(); }, RELOAD_AFTER_MS);
    }
  }

  var finished = false;
  var timer = window.setInterval(render, 1000);
  render();
})();
