// Folds the links of the top bar behind a "menu" button on narrow screens,
// where they would otherwise fill the first screen. The stylesheet shows the
// button and hides the links only once this script has marked the bar, so
// without scripts every link stays in view. Escape closes the open menu, and
// so does moving the focus out of the bar with the keyboard.
(function () {
  "use strict";
  var bar = document.querySelector(".topbar");
  var button = bar && bar.querySelector(".menu-toggle");
  var menu = document.getElementById("topbar-menu");
  if (!button || !menu) {
    return;
  }
  bar.classList.add("collapsible");

  function setOpen(open) {
    bar.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  bar.addEventListener("focusout", function (event) {
    // relatedTarget is null when a click elsewhere takes the focus away.
    var next = event.relatedTarget;
    if (next && !bar.contains(next) && bar.classList.contains("open")) {
      setOpen(false);
    }
  });
  bar.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bar.classList.contains("open")) {
      setOpen(false);
      button.focus();
    }
  });
})();
