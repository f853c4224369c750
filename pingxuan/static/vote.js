/* Voting on the showcase: the case page's vote box, the gallery's tiles and the countdown to the close.
   The pages are cached and the same for everyone; this script asks for the visitor's own state (/showcase/voter,
   never cached) and turns each "Vote" link into a one-tap vote for a verified voter, which says "Voted today" at
   once. Without JavaScript (or for a visitor not verified yet) the links lead to a confirmation page, by way of
   the number's verification, and back. */
(function () {
  "use strict";

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {}; });
  }

  function postVote(url, token) {
    return fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Accept": "application/json", "X-Voter-Token": token}})
      .then(function (r) { return r.json().then(function (body) { return {status: r.status, body: body}; }); });
  }

  function say(element, text, kind) {
    if (!element) { return; }
    element.textContent = text || "";
    element.className = element.className.replace(/ (success|error)\b/g, "") + (kind ? " " + kind : "");
  }

  function buttonFor(link) {
    var button = document.createElement("button");
    button.type = "button";
    button.id = link.id;
    button.className = link.className.replace(/\bbutton\b/, "").trim();
    if (link.getAttribute("aria-describedby")) { button.setAttribute("aria-describedby", link.getAttribute("aria-describedby")); }
    button.dataset.href = link.href;
    button.dataset.voteUrl = link.dataset.voteUrl || "";
    link.replaceWith(button);
    return button;
  }

  function markVoted(button, label) {
    button.textContent = label;
    button.disabled = true;
    button.classList.add("done");
  }

  /* The countdown to the vote's close (the gallery): the end is a moment in UTC, shown as time left. */
  var timer = document.getElementById("countdown");
  if (timer) {
    var end = Date.parse(timer.dataset.closes), ticking = null;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var tick = function () {
      var left = Math.max(0, Math.floor((end - Date.now()) / 1000));
      if (!left) {
        timer.textContent = timer.dataset.ended;
        if (ticking) { clearInterval(ticking); }
        Array.prototype.forEach.call(document.querySelectorAll(".vote-button"), function (b) {
          if (b.tagName === "BUTTON") { b.disabled = true; } else { b.remove(); }
        });
        return;
      }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60);
      timer.textContent = (d ? timer.dataset.formatDays : timer.dataset.format)
        .replace("{d}", d).replace("{h}", h).replace("{m}", pad(m)).replace("{s}", pad(left % 60));
    };
    tick();
    document.getElementById("countdown-line").hidden = false;
    ticking = setInterval(tick, 1000);
  }

  if (!window.fetch) { return; }

  /* The case page's vote box. */
  var box = document.getElementById("vote"), link = document.getElementById("vote-button");
  if (box && link && box.dataset.stateUrl) {
    var message = document.getElementById("vote-message");
    getJSON(box.dataset.stateUrl).then(function (state) {
      if (!state.verified || state.closed) { return; }
      link.dataset.voteUrl = box.dataset.voteUrl;
      var button = buttonFor(link);
      button.textContent = box.dataset.labelVote;
      if (state.voted_for_case) { markVoted(button, box.dataset.labelVoted); }
      button.disabled = state.voted_for_case || state.remaining_in_category === 0;
      say(message, state.message);
      button.addEventListener("click", function () {
        button.disabled = true;
        postVote(box.dataset.voteUrl, state.voter_token).then(function (res) {
          if (res.body.captcha) { window.location = res.body.captcha; return; }
          if (res.body.verify) { window.location = res.body.verify; return; }
          say(message, res.body.message, res.status === 200 ? "success" : "error");
          var count = document.getElementById("vote-count");
          if (res.status === 200) {
            markVoted(button, box.dataset.labelVoted);
            if (count && res.body.count_text) { count.textContent = res.body.count_text; }  // "1 vote": the server's words
          } else {
            button.disabled = false;  // the server decides: its refusal says why
          }
        }).catch(function () { window.location = button.dataset.href; });
      });
      var forget = document.createElement("form");
      forget.method = "post";
      forget.action = state.forget;
      forget.className = "inline";
      forget.innerHTML = '<input type="hidden" name="csrf_token"><button type="submit" class="secondary small"></button>';
      forget.elements.csrf_token.value = state.csrf_token;
      forget.querySelector("button").textContent = box.dataset.labelForget;
      box.parentNode.insertBefore(forget, box.nextSibling);
    }).catch(function () {});
  }

  /* The gallery: a vote button on each finalist's tile, the tiles voted for today marked. */
  var gallery = document.getElementById("gallery");
  if (!gallery || !gallery.querySelector(".vote-button")) { return; }
  var labels = gallery.dataset, status = document.getElementById("voter-status"), voter = null;

  function tiles() { return Array.prototype.slice.call(gallery.querySelectorAll(".tile")); }

  function paint() {
    var voted = {};
    (voter.voted || []).forEach(function (id) { voted[id] = true; });
    tiles().forEach(function (tile) {
      var button = tile.querySelector("button.vote-button");
      if (!button) { return; }
      var left = voter.remaining[tile.dataset.category];
      if (voted[tile.dataset.case]) {
        tile.classList.add("voted");
        markVoted(button, labels.labelVoted);
      } else {
        button.textContent = left === 0 ? labels.labelUsed : labels.labelVote;
        button.disabled = left === 0;
      }
    });
    var here = voter.remaining[labels.category];
    if (labels.category && here !== undefined) {
      say(status, here ? labels.labelLeft.replace("{n}", here) : labels.labelNone);
    }
  }

  function vote(tile, button) {
    button.disabled = true;
    var said = tile.querySelector(".tile-message");
    postVote(button.dataset.voteUrl, voter.voter_token).then(function (res) {
      if (res.body.captcha) { window.location = res.body.captcha; return; }
      if (res.body.verify) { window.location = button.dataset.href; return; }  // verify, then back to this tile
      say(said, res.body.message, res.status === 200 ? "success" : "error");
      if (res.status !== 200) { return load(); }  // refused (voted elsewhere meanwhile, say): the server's view
      voter.voted.push(Number(tile.dataset.case));
      voter.remaining[tile.dataset.category] = res.body.remaining_today;
      var count = tile.querySelector(".tile-count");
      if (count && res.body.count_text) { count.textContent = res.body.count_text; }
      paint();
    }).catch(function () { window.location = button.dataset.href; });
  }

  function load() {
    return getJSON(labels.stateUrl).then(function (state) {
      if (!state.verified || state.closed) { return; }
      state.remaining = state.remaining || {};
      state.voted = state.voted || [];
      voter = state;
      tiles().forEach(function (tile) {
        var link = tile.querySelector("a.vote-button");
        if (!link) { return; }
        var button = buttonFor(link);
        button.addEventListener("click", function () { vote(tile, button); });
      });
      paint();
      if (state.message) {  // just verified: said once, on the tile the visitor came back to (#case-N)
        var back = location.hash && document.getElementById(location.hash.slice(1));
        say((back && back.querySelector(".tile-message")) || status, state.message, "success");
      }
    }).catch(function () {});
  }

  load();
})();
