// Folds the links of the top bar behind a "menu" button on narrow screens,
// where they would otherwise fill the first screen. The stylesheet shows the
// button and hides the links only once this script has marked the bar, so
// without scripts every link stays in view. Escape closes the open menu.
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
  bar.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bar.classList.contains("open")) {
      setOpen(false);
      button.focus();
    }
  });
})();
