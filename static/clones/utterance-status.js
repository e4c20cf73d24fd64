// Follows each pending utterance in the list until its audio is ready, and then while it is heard back
// (and maybe spoken again) until its check settles.
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
          var check = item.querySelector(".utterance-check");
          if (check && state.check_html !== undefined && check.dataset.html !== state.check_html) {
            check.innerHTML = state.check_html;  // rendered and escaped by the server
            check.dataset.html = state.check_html;
          }
          if (!state.finished || state.check_busy) setTimeout(poll, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 15000); setTimeout(poll, delay); });
    }
    setTimeout(poll, item.dataset.pollNow ? 0 : delay);
  }
  // The streamed path (speech-stream.js) follows the entry it adds for a take the same way.
  window.voicecloneFollowUtterance = follow;
  document.querySelectorAll(".utterance").forEach(function (item) {
    if (item.dataset.status === "queued" || item.dataset.status === "speaking" || item.dataset.checkBusy) follow(item);
  });
})();
