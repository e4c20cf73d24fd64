// The voice sample, before it is submitted: play it back and show the server's quality report.
// Whatever fills the `sample` input (a chosen file, or the recorder) fires "change" and lands here.
(function () {
  "use strict";
  var box = document.getElementById("sample-report");
  if (!box) return;
  var form = box.closest("form");
  var input = form.querySelector("input[type=file][name=sample]");
  var errors = document.getElementById("sample-errors");
  var field = document.getElementById("sample-field");
  var preview = document.getElementById("sample-preview");
  var player = document.getElementById("sample-playback");
  var text = box.dataset;
  var lang = document.documentElement.lang || undefined;
  var playbackUrl = null;
  var pending = null;
  var keptEnd = null;

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; }).replace(/%%/g, "%");
  }

  function number(value, digits) {
    return Number(value).toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function clock(seconds) {
    var whole = Math.max(0, Math.round(seconds));
    return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function showError(message) {
    errors.textContent = message;
    errors.hidden = !message;
    field.classList.toggle("has-error", !!message);
    if (message) preview.hidden = true;
  }

  function showPlayback(file) {
    if (playbackUrl) URL.revokeObjectURL(playbackUrl);
    playbackUrl = file ? URL.createObjectURL(file) : null;
    keptEnd = null;
    if (playbackUrl) player.src = playbackUrl;
    else player.removeAttribute("src");
    preview.hidden = !file;
  }

  function fact(list, label, value) {
    list.appendChild(element("dt", "", label));
    list.appendChild(element("dd", "", value));
  }

  function render(report, advice) {
    box.replaceChildren();
    var verdict = /^(good|fair|poor)$/.test(report.verdict) ? report.verdict : "fair";
    var head = element("p", "report-head");
    head.appendChild(element("strong", "", text.msgTitle + " "));
    head.appendChild(element("span", "badge verdict verdict-" + verdict, text["msgVerdict" + verdict[0].toUpperCase() + verdict.slice(1)]));
    box.appendChild(head);

    var facts = element("dl", "facts report-facts");
    fact(facts, text.msgDuration, format(text.msgSeconds, { value: number(report.duration, 1) }));
    fact(facts, text.msgSpeech, format(text.msgSeconds, { value: number(report.speech_duration, 1) }));
    fact(facts, text.msgLoudness, format(text.msgLufs, { value: number(report.loudness_lufs, 1) }));
    fact(facts, text.msgPeak, format(text.msgPeakValue, {
      value: number(report.peak_dbfs, 1), percent: number(report.clipping_percent, 1),
    }));
    fact(facts, text.msgNoise, format(text.msgDbfs, { value: number(report.noise_floor_dbfs, 1) }));
    fact(facts, text.msgSnr, format(text.msgDb, { value: number(report.snr_db, 1) }));
    box.appendChild(facts);

    var list = element("ul", "advice");
    (advice || []).forEach(function (item) {
      var level = /^[a-z]+$/.test(item.level) ? item.level : "info";
      var entry = element("li", "advice-" + level, item.message);
      entry.dataset.code = item.code;
      list.appendChild(entry);
    });
    if (!list.children.length) list.appendChild(element("li", "advice-ok", text.msgNoAdvice));
    box.appendChild(list);

    if (report.trimmed) {
      // Longer than the limit: let the user hear the window the server keeps, from the local file.
      var start = Number(report.kept_start), end = start + Number(report.kept_duration);
      var note = list.querySelector('[data-code="trimmed"]');
      if (!note) {
        note = element("li", "advice-info", format(text.msgTrimmed, { start: clock(start), end: clock(end) }));
        list.appendChild(note);
      }
      var hear = element("button", "link", text.msgPlayKept);
      hear.type = "button";
      hear.id = "play-kept";
      hear.addEventListener("click", function () {
        keptEnd = end;
        player.currentTime = start;
        player.play();
      });
      note.appendChild(document.createTextNode(" "));
      note.appendChild(hear);
    }
    box.hidden = false;
  }

  // MediaRecorder's WebM has no duration in its header, so the player shows no length and cannot seek:
  // seeking far past the end makes the browser find the real duration, then we go back to the start.
  player.addEventListener("loadedmetadata", function () {
    if (player.duration !== Infinity) return;
    player.addEventListener("durationchange", function rewind() {
      if (player.duration === Infinity) return;
      player.removeEventListener("durationchange", rewind);
      player.currentTime = 0;
    });
    player.currentTime = 1e101;
  });

  // "Hear the part we keep" plays from the start of the kept window and pauses at its end.
  player.addEventListener("timeupdate", function () {
    if (keptEnd !== null && player.currentTime >= keptEnd) { player.pause(); keptEnd = null; }
  });

  function analyze(file) {
    if (pending) pending.abort();
    pending = new AbortController();
    var data = new FormData();
    data.append("sample", file);
    box.replaceChildren(element("p", "help", text.msgChecking));
    box.hidden = false;
    box.setAttribute("aria-busy", "true");
    // The token goes in a header: a body the server refuses to read for its size would take it along.
    var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    fetch(form.dataset.analyzeUrl, {
      method: "POST", body: data, signal: pending.signal, credentials: "same-origin", headers: { "X-CSRFToken": token },
    })
      .then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
      })
      .then(function (result) {
        box.removeAttribute("aria-busy");
        if (result.ok && result.answer.report) {
          render(result.answer.report, result.answer.advice);
        } else {
          box.hidden = true;
          showError(result.answer.error || text.msgUnreachable);
        }
      })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        box.removeAttribute("aria-busy");
        box.replaceChildren(element("p", "help", text.msgUnreachable));
      });
  }

  input.addEventListener("change", function () {
    var file = input.files[0];
    showError("");
    var limit = Number(input.dataset.maxBytes);
    if (file && limit && file.size > limit) {
      // Refused here at once, in the server's words, rather than after sending megabytes for nothing.
      showPlayback(null);
      box.hidden = true;
      showError(input.dataset.tooLarge);
      return;
    }
    showPlayback(file);
    if (file) analyze(file);
    else { box.hidden = true; box.replaceChildren(); }
  });
})();
