// Several recordings: as soon as they are chosen, the server joins their best speech and says which
// stretch came from which file. Each stretch plays from the joined sample; unticking a file leaves it out.
(function () {
  "use strict";
  var box = document.getElementById("assembly");
  if (!box) return;
  var form = document.getElementById("multi-form");
  var input = form.querySelector("input[type=file][name=recordings]");
  var skip = form.querySelector("input[name=skip]");
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
      files.append(item);
    });
    var segments = document.getElementById("assembly-segments");
    segments.replaceChildren();
    data.segments.forEach(function (segment) {
      var item = element("li", "assembly-segment");
      item.dataset.file = segment.file;
      var button = element("button", "link", text.play);
      button.type = "button";
      button.addEventListener("click", function () { playStretch(segment); });
      item.append(element("span", null, format(text.stretch, {
        name: segment.name, start: segment.start.toFixed(1), end: segment.end.toFixed(1),
      })), " ", button);
      segments.append(item);
    });
    var advice = document.getElementById("assembly-advice");
    advice.replaceChildren();
    data.advice.forEach(function (item) {
      var node = element("li", "advice-" + item.level, item.message);
      node.dataset.code = item.code;
      advice.append(node);
    });
  }

  function assemble() {
    if (!input.files.length) return;
    var mine = ++request;
    var body = new FormData();
    Array.prototype.forEach.call(input.files, function (file) { body.append("recordings", file); });
    body.append("skip", skip.value);
    if (denoise.checked) body.append("denoise", "on");
    body.append("csrfmiddlewaretoken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
    summary.textContent = text.working;
    fetch(text.url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
      .then(function (result) {
        if (mine !== request) return;
        if (result[0]) {
          show(result[1]);
        } else {
          box.hidden = true;
          errorBox().textContent = result[1].error;
        }
      });
  }

  input.addEventListener("change", function () {
    skip.value = "";
    denoise.checked = false;
    assemble();
  });
  denoise.addEventListener("change", assemble);
})();
