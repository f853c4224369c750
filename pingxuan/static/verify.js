// The verify page's "send a new code" button: disabled while the last code is fresh, its label counting the
// seconds down until a new code may be asked for (the server refuses earlier requests with the same delay).
(function () {
  "use strict";
  var button = document.getElementById("resend-code");
  if (!button) { return; }
  var wait = parseInt(button.dataset.wait || "0", 10);
  if (!(wait > 0)) { return; }
  var label = button.textContent, template = button.dataset.labelWait || label;
  var until = Date.now() + wait * 1000;

  function tick() {
    var left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = template.replace("{n}", String(left));
    window.setTimeout(tick, 250);
  }
  tick();
})();
