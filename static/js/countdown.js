// Counts down the time left on a timed quiz attempt. The server computes the
// starting value and enforces the deadline at submission; this is display only.
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

  function render() {
    var remaining = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    var minutes = Math.floor(remaining / 60);
    var seconds = remaining % 60;
    element.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    if (remaining === 0) {
      window.clearInterval(timer);
    }
  }

  var timer = window.setInterval(render, 1000);
  render();
})();
