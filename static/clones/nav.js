// On a narrow screen the header's links fold into a menu button. Keyboard: Enter or Space opens and
// closes it (it is a button), Escape closes it and puts the focus back on the button.
(function () {
  "use strict";
  var header = document.getElementById("top");
  var button = header && header.querySelector(".menu-button");
  if (!button) return;
  header.classList.add("has-menu");
  button.hidden = false;

  function setOpen(open) {
    header.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  header.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      button.focus();
    }
  });
})();
