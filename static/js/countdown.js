// Counts down the time left on a timed quiz attempt. The server computes the
// starting value and enforces the deadline; this is display only. Once the
// server's grace period after the deadline has passed, the page reloads so the
// server closes the attempt and shows the result.
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

  function render() {
    var remaining = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    var minutes = Math.floor(remaining / 60);
    var seconds = remaining % 60;
    element.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    if (remaining === 0 && !finished) {
      finished = true;
      window.clearInterval(timer);
      window.setTimeout(function () { window.location.reload(); }, RELOAD_AFTER_MS);
    }
  }

  var finished = false;
  var timer = window.setInterval(render, 1000);
  render();
})();
