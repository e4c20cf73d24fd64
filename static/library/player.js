// Voice cards: a large play button in place of the browser's player, progress drawn over the waveform,
// and a play counted once (the server keeps one per visitor a day). Without JavaScript the browser's
// own player stays.
(function () {
  "use strict";
  var token = document.querySelector("[name=csrfmiddlewaretoken]");

  function countPlay(url) {
    if (!url || !token) return;
    fetch(url, { method: "POST", headers: { "X-CSRFToken": token.value }, credentials: "same-origin" })
      .catch(function () { /* a lost count is not worth bothering the listener */ });
  }

  document.querySelectorAll(".player").forEach(function (player) {
    var audio = player.querySelector("audio");
    var button = player.querySelector(".play-button");
    var progress = player.querySelector(".wave-progress");
    if (!audio || !button) return;
    audio.removeAttribute("controls");
    audio.hidden = true;
    button.hidden = false;
    var counted = false;

    function show(playing) {
      player.classList.toggle("playing", playing);
      button.setAttribute("aria-label", playing ? button.dataset.labelPause : button.dataset.labelPlay);
    }

    button.addEventListener("click", function () {
      if (audio.paused) {
        document.querySelectorAll(".player audio").forEach(function (other) { if (other !== audio) other.pause(); });
        audio.play();
      } else {
        audio.pause();
      }
    });
    audio.addEventListener("play", function () {
      show(true);
      if (!counted) { counted = true; countPlay(player.dataset.playUrl); }
    });
    audio.addEventListener("pause", function () { show(false); });
    audio.addEventListener("ended", function () { show(false); });
    audio.addEventListener("timeupdate", function () {
      if (progress && audio.duration) progress.style.width = (100 * audio.currentTime / audio.duration) + "%";
    });
  });
})();
