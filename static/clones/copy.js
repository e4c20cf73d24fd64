// Copy buttons: copy the text of the element named by data-copy-target, and say so in a live region.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!target) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = "value" in target && target.value !== undefined ? target.value : target.textContent;
      function done(ok) { if (status) status.textContent = ok ? button.dataset.msgCopied : button.dataset.msgFailed; }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
      } else {
        // Plain http (a local run): select the text so Ctrl+C copies it, and copy it the old way.
        if (target.select) target.select();
        else window.getSelection().selectAllChildren(target);
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
        done(ok);
      }
    });
  });
})();
