// Each POST form is sent once: a second press of its button (or of Enter)
// while the first request is on its way is ignored, so a double click does
// not save the same thing twice. A form that opens its response in another
// window (a preview) leaves the page in place and is not held back. Coming
// back to the page with the browser's Back button makes every form usable
// again. So does a wait of HOLD_MS, so that a response that never replaced
// the page (a download, a lost connection) does not block a retry.
(function () {
  "use strict";

  var HOLD_MS = 10000;

  function targetOf(form, submitter) {
    if (submitter && submitter.hasAttribute("formtarget")) {
      return submitter.getAttribute("formtarget");
    }
    return form.getAttribute("target") || "";
  }

  function methodOf(form, submitter) {
    if (submitter && submitter.hasAttribute("formmethod")) {
      return submitter.getAttribute("formmethod").toLowerCase();
    }
    return (form.getAttribute("method") || "get").toLowerCase();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || null;
    if (event.defaultPrevented || methodOf(form, submitter) !== "post") {
      return;
    }
    var target = targetOf(form, submitter);
    if (target !== "" && target !== "_self") {
      return;
    }
    if (form.hasAttribute("data-sending")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sending", "");
    form.setAttribute("aria-busy", "true");
    window.setTimeout(function () { release(form); }, HOLD_MS);
  });

  function release(form) {
    form.removeAttribute("data-sending");
    form.removeAttribute("aria-busy");
  }

  window.addEventListener("pageshow", function () {
    var held = document.querySelectorAll("form[data-sending]");
    for (var i = 0; i < held.length; i += 1) {
      release(held[i]);
    }
  });
})();
