// Voice cards: the large play button plays the preview in place, with progress drawn over the waveform,
// and a play is counted once (the server keeps one per visitor a day). Without JavaScript the button is
// a plain link to the preview, which the browser plays on a page of its own.
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
    var counted = false;

    function show(playing) {
      player.classList.toggle("playing", playing);
      button.setAttribute("aria-label", playing ? button.dataset.labelPause : button.dataset.labelPlay);
    }

    // A link acts on Enter; as a button it must act on Space too.
    button.addEventListener("keydown", function (event) {
      if (event.key === " ") { event.preventDefault(); button.click(); }
    });
    button.addEventListener("click", function (event) {
      event.preventDefault();
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
