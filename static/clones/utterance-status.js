// Follows each pending utterance in the list until its audio is ready.
(function () {
  "use strict";
  function follow(item) {
    var delay = 1000;
    function poll() {
      fetch(item.dataset.statusUrl, { cache: "no-store" })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (state) {
          item.dataset.status = state.status;
          var badge = item.querySelector(".utterance-status");
          badge.textContent = state.label;
          badge.className = "badge utterance-status status-" + state.status;
          // The server formats the duration in the page's language ("4.2 s", "4.2 秒").
          if (state.duration_label) item.querySelector(".utterance-duration").textContent = state.duration_label;
          if (state.failure_reason) {
            var failure = item.querySelector(".utterance-failure");
            failure.textContent = state.failure_reason;
            failure.hidden = false;
          }
          if (state.audio_url) {
            item.querySelector("audio").src = state.audio_url;
            item.querySelector(".download").href = state.audio_url + "?download=1";
            item.querySelector(".utterance-player").hidden = false;
          }
          if (!state.finished) setTimeout(poll, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 15000); setTimeout(poll, delay); });
    }
    setTimeout(poll, delay);
  }
  document.querySelectorAll(".utterance").forEach(function (item) {
    if (item.dataset.status === "queued" || item.dataset.status === "speaking") follow(item);
  });
})();
