// The speech form: each slider shows its value beside it, and the text box counts its characters
// against the limit (the counter is read with the text box, through aria-describedby).
(function () {
  "use strict";
  document.querySelectorAll(".speech-form").forEach(function (form) {
    var lang = document.documentElement.lang || undefined;
    form.querySelectorAll("input[type=range]").forEach(function (slider) {
      var output = document.createElement("output");
      output.htmlFor = slider.id;
      output.setAttribute("aria-hidden", "true"); // the slider itself announces its value
      var row = document.createElement("span");
      row.className = "range-row";
      slider.parentNode.insertBefore(row, slider);
      row.appendChild(slider);
      row.appendChild(output);
      function show() { output.textContent = "×" + Number(slider.value).toLocaleString(lang, { minimumFractionDigits: 1 }); }
      slider.addEventListener("input", show);
      show();
    });
    var text = form.querySelector("textarea[maxlength]");
    if (!text || !form.dataset.msgCount) return;
    var counter = document.createElement("p");
    counter.className = "help char-count";
    counter.id = text.id + "-count";
    text.insertAdjacentElement("afterend", counter);
    text.setAttribute("aria-describedby", ((text.getAttribute("aria-describedby") || "") + " " + counter.id).trim());
    var limit = Number(text.getAttribute("maxlength"));
    function count() {
      counter.textContent = form.dataset.msgCount
        .replace("%(count)s", text.value.length.toLocaleString(lang))
        .replace("%(limit)s", limit.toLocaleString(lang));
      counter.classList.toggle("errors", text.value.length >= limit);
    }
    text.addEventListener("input", count);
    count();
  });
})();
