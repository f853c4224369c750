/* The unit's dossier form: the eligibility cut-off checked as the date is typed, and a warning before leaving the
 * page with changes not saved. The server checks everything again; this only tells the unit sooner. */
(function () {
  var form = document.querySelector("form.dossier-form");
  if (!form) return;
  var cutoff = form.getAttribute("data-cutoff"), message = form.getAttribute("data-cutoff-message") || "";
  Array.prototype.forEach.call(form.querySelectorAll("[data-cutoff-check]"), function (input) {
    var note = document.getElementById(input.id + "-cutoff");
    function check() {
      var late = cutoff && /^\d{4}-\d{2}-\d{2}$/.test(input.value) && input.value > cutoff;
      if (note) { note.textContent = late ? message : ""; note.hidden = !late; }
      input.setAttribute("aria-invalid", late ? "true" : "false");
    }
    input.addEventListener("input", check);
    input.addEventListener("change", check);
    check();
  });
  var edited = false;
  form.addEventListener("input", function () { edited = true; });
  form.addEventListener("change", function () { edited = true; });
  form.addEventListener("submit", function () { edited = false; });
  window.addEventListener("beforeunload", function (event) {
    if (!edited) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
