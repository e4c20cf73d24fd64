// Plays a speech while it is made: the speak form is posted with fetch to its streaming URL, the WAV
// that comes back (a header, then 16-bit mono PCM as the provider makes it) is read chunk by chunk and
// scheduled back to back on one AudioContext, so the parts of a long text follow each other without
// gaps. The server stores the whole take when the stream ends; the page then shows it in the list like
// any other. Without fetch streams or Web Audio, the form is posted as before and queued.
(function () {
  "use strict";
  var form = document.querySelector("form.speech-form[data-stream-url]");
  var line = document.getElementById("stream-progress");
  var Context = window.AudioContext || window.webkitAudioContext;
  if (!form || !line || !Context || !window.ReadableStream || !window.fetch) return;

  var HEADER_BYTES = 44;
  var LEAD_SECONDS = 0.15; // scheduled this far ahead, so a late chunk does not leave a gap
  var BLOCK_SAMPLES = 2400; // played in blocks of at least 0.1 s: fewer nodes, the same samples

  function say(template, values) {
    line.hidden = false;
    line.textContent = template.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  }

  function showErrors(body) {
    var box = form.querySelector(".errors.stream-errors");
    if (!box) {
      box = document.createElement("div");
      box.className = "errors stream-errors";
      box.setAttribute("role", "alert");
      form.insertBefore(box, form.firstChild);
    }
    box.textContent = body.message;
    box.hidden = false;
  }

  function addEntry(statusUrl) {
    var list = document.getElementById("utterances");
    var template = document.getElementById("utterance-template");
    if (!list || !template || !statusUrl) return;
    var empty = list.querySelector("li.meta");
    if (empty) empty.remove();
    var item = template.content.firstElementChild.cloneNode(true);
    item.dataset.statusUrl = statusUrl;
    item.dataset.pollNow = "1";
    item.querySelector(".utterance-text").textContent = form.querySelector("textarea").value.trim();
    list.insertBefore(item, list.firstChild);
    if (window.voicecloneFollowUtterance) window.voicecloneFollowUtterance(item);
  }

  function play(response, context, state) {
    var reader = response.body.getReader();
    var parts = response.headers.get("X-Speech-Parts") || "1";
    var rate = Number(response.headers.get("X-Audio-Sample-Rate")) || 24000;
    var skip = HEADER_BYTES;
    var odd = null; // a byte left over from a chunk that ended mid-sample
    var pending = [];
    var pendingSamples = 0;

    function schedule(force) {
      if (!pendingSamples || (!force && pendingSamples < BLOCK_SAMPLES)) return;
      var buffer = context.createBuffer(1, pendingSamples, rate);
      var channel = buffer.getChannelData(0);
      var at = 0;
      pending.forEach(function (block) { channel.set(block, at); at += block.length; });
      pending = [];
      pendingSamples = 0;
      var source = context.createBufferSource();
      source.buffer = buffer;
      source.connect(context.destination);
      // Back to back with the block before; only after a stall (nothing left to play) a new start.
      var start = Math.max(state.next, context.currentTime + LEAD_SECONDS);
      if (state.next && state.next >= context.currentTime) start = state.next;
      source.start(start);
      state.next = start + buffer.duration;
      state.received += buffer.duration;
    }

    function report() {
      var played = Math.max(0, Math.min(state.received, context.currentTime - state.startedAt));
      say(line.dataset.playing, { received: state.received.toFixed(1), played: played.toFixed(1), parts: parts });
    }

    function take(bytes) {
      if (skip) {
        var dropped = Math.min(skip, bytes.length);
        skip -= dropped;
        bytes = bytes.subarray(dropped);
      }
      if (odd !== null && bytes.length) {
        var joined = new Uint8Array(bytes.length + 1);
        joined[0] = odd;
        joined.set(bytes, 1);
        bytes = joined;
        odd = null;
      }
      if (bytes.length % 2) {
        odd = bytes[bytes.length - 1];
        bytes = bytes.subarray(0, bytes.length - 1);
      }
      if (!bytes.length) return;
      var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      var block = new Float32Array(bytes.length / 2);
      for (var i = 0; i < block.length; i++) block[i] = view.getInt16(i * 2, true) / 32768;
      if (!state.startedAt) state.startedAt = context.currentTime + LEAD_SECONDS;
      pending.push(block);
      pendingSamples += block.length;
      schedule(false);
    }

    var timer = setInterval(report, 250);
    function pump() {
      return reader.read().then(function (result) {
        if (result.done) {
          schedule(true);
          return;
        }
        take(result.value);
        return pump();
      });
    }
    return pump().then(
      function () { clearInterval(timer); report(); },
      function (error) { clearInterval(timer); schedule(true); throw error; }
    );
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    var box = form.querySelector(".errors.stream-errors");
    if (box) box.hidden = true;
    // Made during the click, so the browser lets it play.
    var context = new Context();
    var state = { next: 0, received: 0, startedAt: 0, statusUrl: null };
    window.voicecloneStream = { context: context, state: state };
    button.disabled = true;
    say(line.dataset.waiting, {});
    fetch(form.dataset.streamUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value },
    })
      .then(function (response) {
        if (!response.ok) {
          return response.json().then(function (body) {
            line.hidden = true;
            showErrors(body);
            if (body.status_url) addEntry(body.status_url);
          });
        }
        state.statusUrl = response.headers.get("X-Status-Url");
        return play(response, context, state).then(
          function () {
            // The server stored the take before it ended the stream, unless the stream broke.
            return fetch(state.statusUrl, { cache: "no-store" })
              .then(function (answer) { return answer.json(); })
              .then(function (status) {
                var template = status.status === "ready" ? line.dataset.done : line.dataset.broken;
                say(template, { received: state.received.toFixed(1) });
                line.dataset.outcome = status.status === "ready" ? "done" : "broken";
                addEntry(state.statusUrl);
              });
          },
          function () {
            say(line.dataset.broken, {});
            line.dataset.outcome = "broken";
            addEntry(state.statusUrl);
          }
        );
      })
      .catch(function () {
        say(line.dataset.broken, {});
        line.dataset.outcome = "broken";
      })
      .then(function () { button.disabled = false; });
  });
})();
