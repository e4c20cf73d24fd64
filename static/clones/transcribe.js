// Fills the transcript field with the provider's speech recognition of the chosen sample.
// Its messages come translated from the page (data attributes) or from the server's answer.
(function () {
  "use strict";
  var button = document.getElementById("transcribe");
  if (!button) return;
  var form = button.form;
  var status = document.getElementById("transcribe-status");
  button.addEventListener("click", function () {
    var file = form.querySelector("input[type=file][name=sample]").files[0];
    if (!file) { status.textContent = button.dataset.needFile; return; }
    var data = new FormData();
    data.append("sample", file);
    var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    button.disabled = true;
    status.textContent = "…";
    fetch(form.dataset.transcribeUrl, { method: "POST", body: data, headers: { "X-CSRFToken": token } })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.text) { form.querySelector("[name=transcript]").value = answer.text; status.textContent = ""; }
        else status.textContent = answer.error;
      })
      .catch(function () { status.textContent = button.dataset.failed; })
      .finally(function () { button.disabled = false; });
  });
})();
