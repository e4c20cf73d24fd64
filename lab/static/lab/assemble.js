// Several recordings: as soon as they are chosen, the server joins their best speech and says which
// stretch came from which file. Each stretch plays from the joined sample; unticking a file leaves it out.
// Each file also shows its kept window on a timeline: dragging the window or its ends (pointer, or arrow
// keys on an end, which is an ARIA slider) limits what may be kept of that file, and the server joins and
// measures the sample again. The server checks every window; the page only keeps them in range.
(function () {
  "use strict";
  var box = document.getElementById("assembly");
  if (!box) return;
  var form = document.getElementById("multi-form");
  var input = form.querySelector("input[type=file][name=recordings]");
  var skip = form.querySelector("input[name=skip]");
  var windowsInput = form.querySelector("input[name=windows]");
  var windows = {};  // file index -> [start, end] seconds, for the files whose window the owner moved
  var minWindow = Number(box.dataset.minWindow) || 3;
  var keyTimer = null;
  var lastData = null;  // the last joined sample shown, and the windows it was joined with
  var accepted = {};
  var denoise = form.querySelector("input[name=denoise]");
  var cleanup = document.getElementById("cleanup");
  var beforeUrl = null;
  var player = document.getElementById("assembly-audio");
  var summary = document.getElementById("assembly-summary");
  var text = box.dataset;
  var audioUrl = null;
  var stopAt = null;
  var request = 0;

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function errorBox() {
    var errors = document.getElementById("recordings-errors");
    if (!errors) {
      errors = element("div", "errors");
      errors.id = "recordings-errors";
      errors.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", errors);
    }
    return errors;
  }

  function skipped() {
    return skip.value ? skip.value.split(",").map(Number) : [];
  }

  function blobUrl(dataUrl) {
    var bytes = atob(dataUrl.split(",")[1]);
    var array = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) array[i] = bytes.charCodeAt(i);
    return URL.createObjectURL(new Blob([array], { type: "audio/wav" }));
  }

  function toBlobUrl(dataUrl) {
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = blobUrl(dataUrl);
    return audioUrl;
  }

  function verdictLabel(verdict) {
    return text["verdict" + verdict.charAt(0).toUpperCase() + verdict.slice(1)];
  }

  function showCleanup(data) {
    // Offered only when the report finds background noise (or the owner already asked for it).
    cleanup.hidden = !data.cleanup_offered;
    var before = document.getElementById("cleanup-before");
    before.hidden = !data.before_cleanup;
    if (beforeUrl) URL.revokeObjectURL(beforeUrl);
    beforeUrl = null;
    if (data.before_cleanup) {
      beforeUrl = blobUrl(data.before_cleanup.audio);
      document.getElementById("before-audio").src = beforeUrl;
      document.getElementById("before-summary").textContent = format(text.before, {
        verdict: verdictLabel(data.before_cleanup.report.verdict),
        snr: Number(data.before_cleanup.report.snr_db).toFixed(0),
      });
    }
  }

  function playStretch(segment) {
    stopAt = segment.at + segment.duration;
    player.currentTime = segment.at;
    player.play();
  }

  player.addEventListener("timeupdate", function () {
    if (stopAt !== null && player.currentTime >= stopAt) {
      player.pause();
      stopAt = null;
    }
  });

  function show(data) {
    // The joined sample is drawn anew: keep the keyboard on the window end it was on.
    var focused = document.activeElement;
    var refocus = focused && focused.classList.contains("window-handle")
      ? ".window-handle[data-file='" + focused.dataset.file + "'][data-side='" + focused.dataset.side + "']" : null;
    lastData = data;
    accepted = JSON.parse(JSON.stringify(windows));
    box.hidden = false;
    errorBox().textContent = "";
    player.src = toBlobUrl(data.audio);
    summary.textContent = format(text.total, {
      seconds: Number(data.duration).toFixed(1),
      verdict: verdictLabel(data.report.verdict),
      snr: Number(data.report.snr_db).toFixed(0),
    });
    showCleanup(data);
    var files = document.getElementById("assembly-files");
    files.replaceChildren();
    data.files.forEach(function (file) {
      var item = element("li", "assembly-file");
      item.dataset.file = file.index;
      var label = element("label");
      var check = element("input");
      check.type = "checkbox";
      check.checked = skipped().indexOf(file.index) === -1;
      check.setAttribute("aria-label", text.use + ": " + file.name);
      check.addEventListener("change", function () {
        var list = skipped().filter(function (i) { return i !== file.index; });
        if (!check.checked) list.push(file.index);
        skip.value = list.join(",");
        assemble();
      });
      label.append(check, " ", element("strong", null, file.name));
      var verdict = file.report.verdict;
      item.append(label, " ", element("span", "badge verdict-" + verdict, text["verdict" + verdict.charAt(0).toUpperCase() + verdict.slice(1)]),
        " ", element("span", "help", format(text.kept, { seconds: file.kept_seconds })));
      item.append.apply(item, keptWindow(file, data.segments.filter(function (s) { return s.file === file.index; })));
      files.append(item);
    });
    var segments = document.getElementById("assembly-segments");
    segments.replaceChildren();
    data.segments.forEach(function (segment) {
      var item = element("li", "assembly-segment");
      item.dataset.file = segment.file;
      item.dataset.start = segment.start;
      item.dataset.end = segment.end;
      item.dataset.at = segment.at;
      var button = element("button", "link", text.play);
      button.type = "button";
      button.addEventListener("click", function () { playStretch(segment); });
      item.append(element("span", null, format(text.stretch, {
        name: segment.name, start: segment.start.toFixed(1), end: segment.end.toFixed(1),
      })), " ", button);
      segments.append(item);
    });
    if (refocus && box.querySelector(refocus)) box.querySelector(refocus).focus();
    var advice = document.getElementById("assembly-advice");
    advice.replaceChildren();
    data.advice.forEach(function (item) {
      var node = element("li", "advice-" + item.level, item.message);
      node.dataset.code = item.code;
      advice.append(node);
    });
  }

  function seconds(value) {
    return Math.round(value * 100) / 100;
  }

  function saveWindows() {
    windowsInput.value = Object.keys(windows).map(function (index) {
      return index + ":" + windows[index][0].toFixed(2) + "-" + windows[index][1].toFixed(2);
    }).join(",");
  }

  // The timeline of one recording: its kept stretches, and the window the owner can move.
  function keptWindow(file, stretches) {
    var duration = file.duration;
    var span = windows[file.index];
    if (!span) {
      span = stretches.length
        ? [Math.min.apply(null, stretches.map(function (s) { return s.start; })),
           Math.max.apply(null, stretches.map(function (s) { return s.end; }))]
        : [0, duration];
      if (span[1] - span[0] < minWindow) {
        var start = Math.max(0, Math.min(span[0], duration - minWindow));
        span = [start, Math.min(duration, start + minWindow)];
      }
    }
    var current = span.slice();
    var track = element("div", "window-track");
    track.dataset.file = file.index;
    stretches.forEach(function (stretch) {
      var mark = element("span", "kept-mark");
      mark.style.left = (100 * stretch.start / duration) + "%";
      mark.style.width = (100 * (stretch.end - stretch.start) / duration) + "%";
      track.append(mark);
    });
    var frame = element("div", "kept-window");
    var label = element("p", "window-label");
    label.id = "window-label-" + file.index;
    var handles = [["start", text.windowStart], ["end", text.windowEnd]].map(function (pair, side) {
      var handle = element("span", "window-handle " + pair[0]);
      handle.dataset.file = file.index;
      handle.dataset.side = pair[0];
      handle.setAttribute("role", "slider");
      handle.tabIndex = 0;
      handle.setAttribute("aria-label", format(pair[1], { name: file.name }));
      handle.setAttribute("aria-valuemin", "0");
      handle.setAttribute("aria-valuemax", String(duration));
      handle.setAttribute("aria-describedby", label.id + " window-help");
      handle.addEventListener("keydown", function (event) {
        var steps = { ArrowLeft: -0.5, ArrowDown: -0.5, ArrowRight: 0.5, ArrowUp: 0.5, PageDown: -2, PageUp: 2 };
        var value = current[side];
        if (event.key in steps) value += steps[event.key];
        else if (event.key === "Home") value = side ? current[0] + minWindow : 0;
        else if (event.key === "End") value = side ? duration : current[1] - minWindow;
        else return;
        event.preventDefault();
        setEnd(side, value);
        clearTimeout(keyTimer);
        keyTimer = setTimeout(commit, 600);  // one joining after a run of key presses, not one per press
      });
      frame.append(handle);
      return handle;
    });
    track.append(frame);

    function draw() {
      frame.style.left = (100 * current[0] / duration) + "%";
      frame.style.width = (100 * (current[1] - current[0]) / duration) + "%";
      handles.forEach(function (handle, side) {
        handle.setAttribute("aria-valuenow", String(seconds(current[side])));
        handle.setAttribute("aria-valuetext", format(text.seconds, { seconds: current[side].toFixed(1) }));
      });
      handles[0].setAttribute("aria-valuemax", String(seconds(current[1] - minWindow)));
      handles[1].setAttribute("aria-valuemin", String(seconds(current[0] + minWindow)));
      label.textContent = format(text.window, {
        start: current[0].toFixed(1), end: current[1].toFixed(1), duration: duration.toFixed(1),
      });
    }

    // One end moved: kept within the recording and at least the intake's minimum from the other end.
    function setEnd(side, value) {
      if (side === 0) current[0] = Math.max(0, Math.min(value, current[1] - minWindow));
      else current[1] = Math.min(duration, Math.max(value, current[0] + minWindow));
      current = current.map(seconds);
      draw();
    }

    function commit() {
      if (current[0] === span[0] && current[1] === span[1]) return;
      windows[file.index] = current.slice();
      saveWindows();
      assemble(true);
    }

    function at(event) {
      var rect = track.getBoundingClientRect();
      return Math.max(0, Math.min(1, (event.clientX - rect.left) / rect.width)) * duration;
    }

    frame.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      event.preventDefault();
      var side = handles.indexOf(event.target);  // -1: the window itself, moved whole
      var grabbed = at(event) - current[0];
      var length = current[1] - current[0];
      frame.setPointerCapture(event.pointerId);
      frame.classList.add("dragging");
      function move(moved) {
        if (side >= 0) {
          setEnd(side, at(moved));
        } else {
          var start = Math.max(0, Math.min(at(moved) - grabbed, duration - length));
          current = [seconds(start), seconds(start + length)];
          draw();
        }
      }
      function drop() {
        frame.removeEventListener("pointermove", move);
        frame.removeEventListener("pointerup", drop);
        frame.removeEventListener("pointercancel", drop);
        frame.classList.remove("dragging");
        commit();
      }
      frame.addEventListener("pointermove", move);
      frame.addEventListener("pointerup", drop);
      frame.addEventListener("pointercancel", drop);
    });
    draw();
    return [track, label];
  }

  function assemble(windowMoved) {
    if (!input.files.length) return;
    var mine = ++request;
    var body = new FormData();
    Array.prototype.forEach.call(input.files, function (file) { body.append("recordings", file); });
    body.append("skip", skip.value);
    body.append("windows", windowsInput.value);
    if (denoise.checked) body.append("denoise", "on");
    body.append("csrfmiddlewaretoken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
    summary.textContent = text.working;
    fetch(text.url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
      .then(function (result) {
        if (mine !== request) return;
        if (result[0]) {
          show(result[1]);
        } else if (windowMoved && lastData) {
          // A window the server refused: the last joined sample stays, with the windows that made it.
          windows = JSON.parse(JSON.stringify(accepted));
          saveWindows();
          show(lastData);
          errorBox().textContent = result[1].error;
        } else {
          box.hidden = true;
          errorBox().textContent = result[1].error;
        }
      });
  }

  input.addEventListener("change", function () {
    lastData = null;
    skip.value = "";
    windows = {};
    windowsInput.value = "";
    denoise.checked = false;
    assemble();
  });
  denoise.addEventListener("change", function () { assemble(false); });
})();
