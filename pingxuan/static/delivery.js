// The verify page asks, a few times, whether the text with the code went out: when the SMS provider refused it
// (a blocked number, too many texts today) the person reads why instead of waiting for a code that never comes.
(function () {
  var box = document.getElementById("sms-delivery");
  if (!box || !window.fetch) { return; }
  var tries = 0;
  function ask() {
    tries += 1;
    fetch(box.dataset.deliveryUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (state) {
        if (state.status === "failed" && state.message) {
          box.textContent = state.message;
          box.hidden = false;
        } else if (state.status !== "sent" && tries < 20) {
          window.setTimeout(ask, 1500);
        }
      })
      .catch(function () {});
  }
  ask();
})();
