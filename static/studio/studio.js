// Follows a script's lines while takes are being made, and an export while it is joined, without a
// reload. The server renders each line's takes in the page's language; this only puts them in place.
(function () {
  "use strict";

  function poll(url, apply, delay) {
    delay = delay || 1000;
    function next() {
      fetch(typeof url === "function" ? url() : url, { cache: "no-store", credentials: "same-origin" })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (state) { if (!apply(state)) setTimeout(next, 1000); })
        .catch(function () { delay = Math.min(delay * 2, 15000); setTimeout(next, delay); });
    }
    setTimeout(next, delay);
  }

  var lines = document.querySelector(".lines[data-pending]");
  if (lines) {
    // Each answer carries the server's time; the next question asks only for lines changed since.
    var since = "";
    poll(function () { return lines.dataset.statusUrl + (since ? "?since=" + encodeURIComponent(since) : ""); },
         function (state) {
      since = state.now;
      state.lines.forEach(function (line) {
        var item = document.getElementById("line-" + line.id);
        if (!item) return;
        var badge = item.querySelector(".line-state");
        badge.textContent = line.label;
        badge.className = "badge line-state state-" + line.state;
        var check = item.querySelector(".line-check");
        if (check && check.dataset.html !== line.check_html) {
          check.innerHTML = line.check_html;  // rendered and escaped by the server
          check.dataset.html = line.check_html;
        }
        var takes = item.querySelector(".line-takes");
        if (takes.dataset.html !== line.takes_html) {
          takes.innerHTML = line.takes_html;  // rendered and escaped by the server
          takes.dataset.html = line.takes_html;
        }
      });
      if (state.finished) lines.removeAttribute("data-pending");
      return state.finished;
    });
  }

  function followExport(box) {
    if (box.dataset.status !== "queued" && box.dataset.status !== "running") return;
    poll(box.dataset.statusUrl, function (state) {
      if (!state.finished) return false;
      var holder = document.createElement("div");
      holder.innerHTML = state.html;  // rendered and escaped by the server
      var fresh = holder.firstElementChild;
      box.replaceWith(fresh);
      return true;
    });
  }
  document.querySelectorAll(".export[data-status-url]").forEach(followExport);
})();
