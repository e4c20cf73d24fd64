// Follows a clone's progress on its page: polls the status endpoint until the clone is finished.
(function () {
  "use strict";
  var root = document.getElementById("clone");
  if (!root) return;
  var url = root.dataset.statusUrl;
  var label = document.getElementById("status-label");
  var delay = 1000;

  function render(state) {
    root.dataset.status = state.status;
    label.textContent = state.label;
    label.className = "badge status-" + state.status;
    state.steps.forEach(function (step) {
      var item = document.querySelector('[data-step="' + step.status + '"]');
      if (item) item.className = step.done ? "done" : step.current ? "current" : "";
    });
    if (state.status === "failed") {
      document.getElementById("failure-reason").textContent = state.failure_reason;
      document.getElementById("failure").hidden = false;
    }
    if (state.preview_unavailable) {
      document.getElementById("preview-unavailable").hidden = false;
      document.getElementById("player").hidden = false;
      var speaking = document.getElementById("speech");
      if (speaking) speaking.hidden = false;
    }
    if (state.preview_url) {
      var audio = document.getElementById("preview-audio");
      if (!audio.getAttribute("src")) audio.src = state.preview_url;
      if (state.preview_waveform && !document.querySelector(".waveform.preview")) {
        audio.insertAdjacentHTML("beforebegin", state.preview_waveform); // our own template, no script
      }
      document.getElementById("player").hidden = false;
      var speech = document.getElementById("speech");
      if (speech) speech.hidden = false;
    }
  }

  // Panels drawn for the clone as it was when the page loaded (the lab's) are fetched again once it is done.
  function refreshPanels() {
    var stale = document.querySelectorAll("[data-refresh-when-finished]");
    if (!stale.length) return;
    fetch(window.location.href, { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html"); // our own page, no script runs
        stale.forEach(function (panel) {
          var replacement = panel.id && fresh.getElementById(panel.id);
          if (replacement && !replacement.hasAttribute("data-refresh-when-finished")) panel.replaceWith(replacement);
        });
      })
      .catch(function () {}); // the panel stays hidden; a reload shows it
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (state) {
        render(state);
        delay = 1000;
        if (state.finished) refreshPanels();
        else setTimeout(poll, delay);
      })
      .catch(function () {
        // The server may be restarting: back off, keep trying.
        delay = Math.min(delay * 2, 15000);
        setTimeout(poll, delay);
      });
  }

  if (root.dataset.status !== "ready" && root.dataset.status !== "failed") setTimeout(poll, delay);
})();
