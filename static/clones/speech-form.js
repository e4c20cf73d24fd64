// The speech form: each slider shows its value beside it, and the text box counts its characters
// against the limit. Both take the place of what is there already (the slider's line, the text's
// help), so nothing on the page moves when the script arrives.
(function () {
  "use strict";
  document.querySelectorAll(".speech-form").forEach(function (form) {
    var lang = document.documentElement.lang || undefined;
    form.querySelectorAll("input[type=range]").forEach(function (slider) {
      var output = document.createElement("output");
      output.htmlFor = slider.id;
      output.className = "range-value";
      output.setAttribute("aria-hidden", "true"); // the slider itself announces its value
      slider.insertAdjacentElement("afterend", output);
      function show() { output.textContent = "×" + Number(slider.value).toLocaleString(lang, { minimumFractionDigits: 1 }); }
      slider.addEventListener("input", show);
      show();
    });
    var text = form.querySelector("textarea[maxlength]");
    if (!text || !form.dataset.msgCount) return;
    // The field's help ("Up to 10,000 characters.") becomes the counter.
    var counter = text.parentNode.querySelector(".help");
    if (!counter) return;
    counter.classList.add("char-count");
    counter.id = text.id + "-count";
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
