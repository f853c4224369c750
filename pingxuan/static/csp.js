/* Behaviour that would otherwise sit in inline handlers, which the Content-Security-Policy blocks.
 * - <select data-autosubmit> submits its form when changed;
 * - <button data-confirm="text"> asks before it acts, and sends confirmed=1 with its form once agreed
 *   (pingxuan.confirm; data-count="name" puts the number of ticked "name" boxes in place of {n});
 * - Flask-Admin's templates still write onclick="…" handlers: the few it uses are bound here instead;
 * - <span data-width="42"> (a progress bar) gets its width, 42 %, through the CSSOM: the policy's style-src
 *   refuses style="…" attributes, not styles set by a script;
 * - the logged-in header's menu button (<details class="nav-menu">) closes on a tap outside it or on Escape; a
 *   browser without ::details-content opens it from 900 px, where site.css shows its links in one row. */
(function () {
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field && field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) { field.form.submit(); }
  });
  document.addEventListener("click", function (event) {  // <button data-tick="name">: tick the passing boxes
    var tick = event.target && event.target.closest ? event.target.closest("[data-tick]") : null;
    if (!tick || !tick.form) { return; }
    var boxes = tick.form.querySelectorAll('input[type=checkbox][data-passing][name="' + tick.getAttribute("data-tick") + '"]');
    Array.prototype.forEach.call(boxes, function (box) { box.checked = true; });
  });
  document.addEventListener("click", function (event) {
    var element = event.target && event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (!element) { return; }
    var message = element.getAttribute("data-confirm"), form = element.form;
    if (form && element.hasAttribute("data-count")) {  // "{n}": how many boxes of that name are ticked
      var ticked = form.querySelectorAll('input[type=checkbox][name="' + element.getAttribute("data-count") + '"]:checked');
      message = message.split("{n}").join(String(ticked.length));
    }
    if (!window.confirm(message)) { event.preventDefault(); return; }
    if (form && !form.querySelector('input[name="confirmed"]')) {  // the view acts only on a confirmed form
      var yes = document.createElement("input");
      yes.type = "hidden"; yes.name = "confirmed"; yes.value = "1";
      form.appendChild(yes);
    }
  });
  function menus() { return document.querySelectorAll("details.nav-menu[open]"); }
  document.addEventListener("click", function (event) {
    Array.prototype.forEach.call(menus(), function (menu) {
      if (!menu.contains(event.target) && !wide()) { menu.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || wide()) { return; }
    Array.prototype.forEach.call(menus(), function (menu) { menu.open = false; menu.querySelector("summary").focus(); });
  });
  function wide() { return window.matchMedia && window.matchMedia("(min-width: 900px)").matches; }
  function quoted(code) {
    var match = /\(\s*(?:this\s*,\s*)?'((?:[^'\\]|\\.)*)'\s*\)/.exec(code);
    return match ? match[1].replace(/\\(.)/g, "$1") : null;
  }
  function bind() {
    var details = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
    if (!details && wide()) {
      Array.prototype.forEach.call(document.querySelectorAll("details.nav-menu"), function (menu) { menu.open = true; });
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-width]"), function (element) {
      var percent = parseFloat(element.getAttribute("data-width"));
      if (!isNaN(percent)) { element.style.width = Math.max(0, Math.min(100, percent)) + "%"; }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[onclick]"), function (element) {
      var code = element.getAttribute("onclick"), argument = quoted(code);
      if (/modelActions\.execute\(/.test(code) && argument !== null) {
        element.setAttribute("data-action", argument);
        element.addEventListener("click", function (event) {
          event.preventDefault();
          if (window.modelActions) { window.modelActions.execute(argument); }
        });
      } else if (/(safeConfirm|confirm)\(/.test(code) && argument !== null) {
        element.addEventListener("click", function (event) { if (!window.confirm(argument)) { event.preventDefault(); } });
      } else if (/faForm\.addInlineField\(/.test(code) && argument !== null) {
        element.addEventListener("click", function (event) {
          event.preventDefault();
          if (window.faForm) { window.faForm.addInlineField(element, argument); }
        });
      } else if (/^\s*return false;?\s*$/.test(code)) {
        element.addEventListener("click", function (event) { event.preventDefault(); });
      } else {
        return;  // unknown: left alone (and refused by the policy)
      }
      element.removeAttribute("onclick");  // bound above: the browser need not refuse it
    });
    // Flask-Admin's row checkboxes have only a title: give them an accessible name (axe-core: label-title-only)
    Array.prototype.forEach.call(document.querySelectorAll("input[title]:not([aria-label])"), function (box) {
      if (!box.labels || !box.labels.length) { box.setAttribute("aria-label", box.getAttribute("title")); }
    });
    Array.prototype.forEach.call(document.querySelectorAll('a[href^="javascript:"]'), function (link) {
      link.addEventListener("click", function (event) { event.preventDefault(); });  // placeholders
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", bind); } else { bind(); }
})();
