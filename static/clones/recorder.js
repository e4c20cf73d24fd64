// Records the voice sample in the browser (getUserMedia + MediaRecorder), with a level meter, a timer,
// a countdown to the minimum length and a stop at the maximum. The recording is put into the form's
// `sample` file input, so it is uploaded, checked and validated exactly like a chosen file.
(function () {
  "use strict";
  var panel = document.getElementById("record-panel");
  if (!panel) return;
  var text = panel.dataset;
  var form = panel.closest("form");
  var input = form.querySelector("input[type=file][name=sample]");
  var modes = document.querySelector("#sample-field .modes");
  var recordTab = document.getElementById("mode-record");
  var uploadTab = document.getElementById("mode-upload");
  var uploadPanel = document.getElementById("upload-panel");
  var startButton = document.getElementById("record-start");
  var startLabel = document.getElementById("record-start-label");
  var stopButton = document.getElementById("record-stop");
  var timer = document.getElementById("record-timer");
  var meter = document.getElementById("record-meter");
  var level = document.getElementById("record-level");
  var progress = document.getElementById("record-progress");
  var status = document.getElementById("record-status");
  var MIN = Number(text.minSeconds);
  var MAX = Number(text.maxSeconds);
  // What MediaRecorder should make, best first: the server takes all of these.
  var TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/ogg", "audio/mp4"];
  var session = null;

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("errors", !!isError);
  }

  function clock(seconds) {
    var whole = Math.max(0, Math.floor(seconds));
    return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
  }

  function setMode(mode) {
    var recording = mode === "record";
    recordTab.setAttribute("aria-selected", String(recording));
    uploadTab.setAttribute("aria-selected", String(!recording));
    panel.hidden = !recording;
    uploadPanel.hidden = recording;
  }

  modes.hidden = false;
  panel.parentNode.classList.add("has-modes");
  recordTab.addEventListener("click", function () { setMode("record"); });
  uploadTab.addEventListener("click", function () { if (!session) setMode("upload"); });

  // The text to read follows the voice's language when one is chosen, else the page's.
  var language = form.querySelector("[name=language]");
  if (language) {
    language.addEventListener("change", function () {
      var scripts = panel.querySelectorAll("[data-script-language]");
      var wanted = Array.prototype.some.call(scripts, function (s) { return s.dataset.scriptLanguage === language.value; });
      if (!wanted) return;
      scripts.forEach(function (script) { script.hidden = script.dataset.scriptLanguage !== language.value; });
    });
  }

  var supported = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder &&
    window.DataTransfer && (window.AudioContext || window.webkitAudioContext));
  if (!supported) {
    startButton.disabled = true;
    say(text.msgUnsupported, true);
    return;
  }

  function pickType() {
    for (var i = 0; i < TYPES.length; i++) {
      if (MediaRecorder.isTypeSupported(TYPES[i])) return TYPES[i];
    }
    return "";
  }

  function extensionFor(type) {
    if (type.indexOf("ogg") !== -1) return "ogg";
    if (type.indexOf("mp4") !== -1 || type.indexOf("aac") !== -1) return "m4a";
    if (type.indexOf("wav") !== -1) return "wav";
    return "webm";
  }

  function failure(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return text.msgDenied;
    if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
      return text.msgNoMicrophone;
    }
    if (name === "NotReadableError" || name === "TrackStartError") return text.msgBusy;
    return text.msgFailed;
  }

  function release(current) {
    clearInterval(current.ticker);
    cancelAnimationFrame(current.frame);
    current.stream.getTracks().forEach(function (track) { track.stop(); });
    if (current.context.state !== "closed") current.context.close();
    level.style.width = "0%";
    meter.classList.remove("hot");
    meter.setAttribute("aria-valuenow", "0");
  }

  function showLevel() {
    var current = session;
    if (!current) return;
    current.analyser.getFloatTimeDomainData(current.buffer);
    var sum = 0, peak = 0;
    for (var i = 0; i < current.buffer.length; i++) {
      var value = current.buffer[i];
      sum += value * value;
      peak = Math.max(peak, Math.abs(value));
    }
    var rms = Math.sqrt(sum / current.buffer.length);
    // -60 dBFS (silence) to 0 dBFS (full scale), with the RMS level of speech near the middle.
    var percent = Math.max(0, Math.min(100, ((20 * Math.log10(rms || 1e-9)) + 60) / 60 * 100));
    level.style.width = percent.toFixed(1) + "%";
    meter.classList.toggle("hot", peak >= 0.99);
    meter.setAttribute("aria-valuenow", String(Math.round(percent)));
    current.frame = requestAnimationFrame(showLevel);
  }

  function tick() {
    var current = session;
    var elapsed = (performance.now() - current.startedAt) / 1000;
    timer.textContent = clock(elapsed);
    progress.style.width = Math.min(100, (elapsed / MAX) * 100).toFixed(1) + "%";
    if (elapsed < MIN) {
      say(text.msgKeepGoing.replace("%(seconds)s", String(Math.ceil(MIN - elapsed))));
    } else if (stopButton.disabled) {
      stopButton.disabled = false;
      say(text.msgRecording);
    }
    if (elapsed >= MAX) stop(true);
  }

  function begin(stream) {
    var type = pickType();
    var recorder;
    try {
      recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    } catch (error) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      throw error;
    }
    var context = new (window.AudioContext || window.webkitAudioContext)();
    var analyser = context.createAnalyser();
    analyser.fftSize = 2048;
    context.createMediaStreamSource(stream).connect(analyser);
    var current = {
      stream: stream, recorder: recorder, context: context, analyser: analyser, chunks: [],
      buffer: new Float32Array(analyser.fftSize), type: type, limitReached: false,
    };
    recorder.addEventListener("dataavailable", function (event) {
      if (event.data && event.data.size) current.chunks.push(event.data);
    });
    recorder.addEventListener("stop", function () { finish(current); });
    recorder.addEventListener("error", function (event) {
      release(current);
      session = null;
      reset();
      say(failure(event.error), true);
    });
    session = current;
    recorder.start(250);
    current.startedAt = performance.now();
    current.ticker = setInterval(tick, 100);
    current.frame = requestAnimationFrame(showLevel);
    panel.classList.add("is-recording");
    stopButton.disabled = true;
    tick();
  }

  function reset() {
    panel.classList.remove("is-recording");
    startButton.disabled = false;
    stopButton.disabled = true;
  }

  function stop(limitReached) {
    var current = session;
    if (!current || current.recorder.state === "inactive") return;
    current.limitReached = limitReached;
    clearInterval(current.ticker);
    current.recorder.stop();
  }

  function finish(current) {
    release(current);
    session = null;
    reset();
    var type = (current.recorder.mimeType || current.type || "audio/webm").split(";")[0];
    var file = new File(current.chunks, "recording." + extensionFor(type), { type: type });
    var transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    startLabel.textContent = text.msgRecordAgain;
    say(current.limitReached ? text.msgLimit + " " + text.msgDone : text.msgDone);
  }

  startButton.addEventListener("click", function () {
    if (session) return;
    startButton.disabled = true;
    timer.textContent = clock(0);
    progress.style.width = "0%";
    say(text.msgStarting);
    navigator.mediaDevices
      .getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } })
      .then(begin)
      .catch(function (error) {
        session = null;
        reset();
        say(failure(error), true);
      });
  });

  stopButton.addEventListener("click", function () { stop(false); });

  // Submitting mid-recording would send the previous sample, or none: finish the recording first.
  form.addEventListener("submit", function (event) {
    if (!session) return;
    event.preventDefault();
    say(text.msgStillRecording, true);
  });
})();
