/* The case page's "Share" button: copies the page's link and says so (the message is a live region). Where the
   browser lets no page write the clipboard (some in-app browsers), it says how to copy the link by hand and
   points at the poster, a picture to save and post. */
(function () {
  "use strict";
  var button = document.getElementById("share-button");
  if (!button) { return; }
  var message = document.getElementById("share-message"), field = document.getElementById("share-url");

  function say(text, failed) {
    message.textContent = text;
    message.className = "share-message" + (failed ? " error" : "");
  }

  function copiedByHand() {  // the older way, for browsers without navigator.clipboard (or refusing it)
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  function done(ok) {
    if (ok) { say(button.dataset.copied, false); return; }
    say(button.dataset.failed, true);
    field.select();  // ready to be copied by hand
  }

  button.addEventListener("click", function () {
    say("", false);
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      navigator.clipboard.writeText(button.dataset.url).then(function () { done(true); },
        function () { done(copiedByHand()); });
    } else {
      done(copiedByHand());
    }
  });
})();
