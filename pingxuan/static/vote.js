/* The case page's vote box. The page is cached and the same for everyone; this script asks for the visitor's
   own state (/showcase/voter, never cached) and turns the "Vote" link into a one-tap vote for a verified voter.
   Without JavaScript the link leads to a confirmation page that works the same way. */
(function () {
  "use strict";
  var share = document.getElementById("share-button");
  if (share) {
    share.addEventListener("click", function () {
      if (navigator.share) { navigator.share({title: share.dataset.title, url: share.dataset.url}).catch(function () {}); }
      else { var f = document.getElementById("share-url"); f.select(); try { navigator.clipboard.writeText(f.value); } catch (e) {} }
    });
  }
  var box = document.getElementById("vote"), link = document.getElementById("vote-button");
  if (!box || !link || !window.fetch) { return; }
  var message = document.getElementById("vote-message");

  function show(text, kind) {
    message.textContent = text || "";
    message.className = "vote-message" + (kind ? " " + kind : "");
  }

  function render(state) {
    if (!state.verified || state.closed) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.id = "vote-button";
    button.textContent = state.voted_for_case ? box.dataset.labelVoted : box.dataset.labelVote;
    button.disabled = state.voted_for_case || state.remaining_in_category === 0;
    link.replaceWith(button);
    link = button;
    show(state.message);
    button.addEventListener("click", function () { vote(state, button); });
    var forget = document.createElement("form");
    forget.method = "post";
    forget.action = state.forget;
    forget.className = "inline";
    forget.innerHTML = '<input type="hidden" name="csrf_token"><button type="submit" class="secondary small"></button>';
    forget.elements.csrf_token.value = state.csrf_token;
    forget.querySelector("button").textContent = box.dataset.labelForget;
    box.parentNode.insertBefore(forget, box.nextSibling);
  }

  function vote(state, button) {
    button.disabled = true;
    fetch(box.dataset.voteUrl, {method: "POST", credentials: "same-origin",
      headers: {"Accept": "application/json", "X-Voter-Token": state.voter_token}})
      .then(function (r) { return r.json().then(function (body) { return {status: r.status, body: body}; }); })
      .then(function (res) {
        if (res.body.captcha) { window.location = res.body.captcha; return; }
        if (res.body.verify) { window.location = res.body.verify; return; }
        show(res.body.message, res.status === 200 ? "success" : "error");
        var count = document.getElementById("vote-count");
        if (res.status === 200 && count && res.body.count_text) {
          count.textContent = res.body.count_text;  // "1 vote", "2 votes": the server's words
        }
        button.disabled = false;  // the server decides: a second vote today is refused with its reason
      })
      .catch(function () { window.location = link.href || box.dataset.voteUrl; });
  }

  fetch(box.dataset.stateUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { return r.ok ? r.json() : {}; })
    .then(render)
    .catch(function () {});
})();
