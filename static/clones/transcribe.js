// Fills the transcript field with the provider's speech recognition of the chosen sample.
// The recognition runs as a task on the server: the answer to the upload says where to ask for the
// result, and the page asks every second until it is there.
// Its messages come translated from the page (data attributes) or from the server's answer.
(function () {
  "use strict";
  var button = document.getElementById("transcribe");
  if (!button) return;
  var form = button.form;
  var status = document.getElementById("transcribe-status");
  var POLL_MS = 1000;

  function json(response) { return response.json(); }

  function show(answer) {
    if (answer.text !== undefined) {
      form.querySelector("[name=transcript]").value = answer.text;
      status.textContent = "";
    } else {
      status.textContent = answer.error || button.dataset.failed;
    }
    button.disabled = false;
  }

  function poll(url) {
    fetch(url, { headers: { Accept: "application/json" } })
      .then(json)
      .then(function (answer) {
        if (answer.finished) show(answer);
        else window.setTimeout(function () { poll(url); }, POLL_MS);
      })
      .catch(function () { show({ error: button.dataset.failed }); });
  }

  button.addEventListener("click", function () {
    var file = form.querySelector("input[type=file][name=sample]").files[0];
    if (!file) { status.textContent = button.dataset.needFile; return; }
    var data = new FormData();
    data.append("sample", file);
    var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    button.disabled = true;
    status.textContent = "…";
    fetch(form.dataset.transcribeUrl, { method: "POST", body: data, headers: { "X-CSRFToken": token } })
      .then(json)
      .then(function (answer) {
        if (answer.status_url) poll(answer.status_url);
        else show(answer);
      })
      .catch(function () { show({ error: button.dataset.failed }); });
  });
})();
