// Live updates for Körpü's training portal. The pages work without this
// script; with it, the "sent" page moves on by itself once the hub has
// registered the appeal, and an appeal's status, timeline and remarks
// follow the hub every second.
(function () {
  "use strict";
  var period = 1000;

  // The sent page: ask until the appeal is registered, then show it.
  var waiting = document.querySelector("[data-poll-url]");
  if (waiting) {
    var probe = waiting.getAttribute("data-poll-url");
    var ask = function () {
      fetch(probe, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { url: "" }; })
        .then(function (j) { if (j.url) { location.replace(j.url); } else { setTimeout(ask, period); } })
        .catch(function () { setTimeout(ask, period); });
    };
    setTimeout(ask, period);
  }

  // The details page: replace the parts that changed, keeping the
  // elements themselves so that aria-live announces only the news.
  var live = document.querySelector("#live[data-live-url]");
  if (live) {
    var src = live.getAttribute("data-live-url");
    var tick = function () {
      fetch(src, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(function (html) {
          var next = document.createElement("template");
          next.innerHTML = html;
          var parts = next.content.querySelectorAll("[id]");
          for (var i = 0; i < parts.length; i++) {
            var here = document.getElementById(parts[i].id);
            if (here && here.innerHTML !== parts[i].innerHTML) { here.innerHTML = parts[i].innerHTML; }
          }
          var st = live.querySelector("[data-status]");
          if (!st || st.getAttribute("data-status") !== "closed") { setTimeout(tick, period); }
        })
        .catch(function () { setTimeout(tick, period * 3); });
    };
    setTimeout(tick, period);
  }

  // A form with mistakes: take the keyboard to the list of them.
  var problems = document.getElementById("problems");
  if (problems) { problems.focus(); }
})();
