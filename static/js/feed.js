// Explore: impression beacons (batched, one request a page), open and dwell timing, and the
// card menu ("not interested", "show fewer from this author") without a reload.
// Optional: without this script the menu items are plain forms and nothing else is recorded.
(function () {
  "use strict";
  var BATCH = 20, FLUSH_MS = 5000, MAX_DWELL = 600, OPEN_KEY = "redfed.feed.open";

  function token() {
    var input = document.querySelector("form[data-feed-action] input[name=csrf_token]");
    return input ? input.value : "";
  }

  // A form body: sendBeacon cannot set headers, and the server reads the token from the form.
  function send(path, fields, viaBeacon) {
    var body = new FormData(), csrf = token();
    if (!csrf) { return; }  // logged out: Explore records nothing
    body.append("csrf_token", csrf);
    Object.keys(fields).forEach(function (key) {
      [].concat(fields[key]).forEach(function (value) { body.append(key, String(value)); });
    });
    if (viaBeacon && navigator.sendBeacon && navigator.sendBeacon(path, body)) { return; }
    fetch(path, { method: "POST", body: body, credentials: "same-origin", keepalive: true,
                  headers: { "Accept": "application/json" } }).catch(function () {});
  }

  // --- impressions: cards at least half on screen, sent in batches -----------------------------
  var seen = {}, pending = [], timer = null;

  function flush(viaBeacon) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!pending.length) { return; }
    send("/feed/impressions", { note_id: pending.splice(0, pending.length) }, viaBeacon);
  }

  function onVisible(entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) { return; }
      var id = entry.target.getAttribute("data-feed-note");
      observer.unobserve(entry.target);
      if (!id || seen[id]) { return; }
      seen[id] = true;
      pending.push(id);
    });
    if (pending.length >= BATCH) { flush(false); } else if (pending.length && !timer) {
      timer = setTimeout(function () { flush(false); }, FLUSH_MS);
    }
  }

  var observer = "IntersectionObserver" in window ? new IntersectionObserver(onVisible, { threshold: 0.5 }) : null;

  // --- open and dwell: the time between opening a card and coming back to Explore --------------
  function rememberOpen(id) {
    send("/feed/notes/" + id + "/open", {}, true);
    try { sessionStorage.setItem(OPEN_KEY, JSON.stringify({ id: id, t: Date.now() })); } catch (e) { /* private mode */ }
  }

  function reportDwell() {
    var raw = null;
    try { raw = sessionStorage.getItem(OPEN_KEY); sessionStorage.removeItem(OPEN_KEY); } catch (e) { return; }
    if (!raw) { return; }
    var open = JSON.parse(raw), seconds = (Date.now() - open.t) / 1000;
    if (open.id && seconds > 1 && seconds < 3600) {
      send("/feed/notes/" + open.id + "/dwell", { seconds: Math.min(seconds, MAX_DWELL).toFixed(1) }, true);
    }
  }

  // --- the card menu -------------------------------------------------------------------------
  // After "show fewer from this author" the author's other cards on screen (infinite scroll
  // appends one per author per page) go too: the person asked not to see them. The clicked
  // card keeps the message, so there is one place that says what happened.
  function removeOtherCardsBy(author, kept) {
    document.querySelectorAll("[data-feed-grid] [data-feed-author]").forEach(function (why) {
      var other = why.closest("article");
      if (!other || other === kept || why.getAttribute("data-feed-author") !== author) { return; }
      if (observer) { observer.unobserve(other); }  // no impression for a card that is gone
      other.remove();
    });
  }

  function dismiss(form) {
    var card = form.closest("article"), csrf = form.querySelector("input[name=csrf_token]").value;
    var button = form.querySelector("button"), why = form.closest("[data-feed-author]");
    // Read before the card's content is replaced; only the author action reaches other cards.
    var byAuthor = form.getAttribute("data-feed-action") === "author";
    var author = byAuthor && why ? why.getAttribute("data-feed-author") : "";
    button.disabled = true;
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: { "Accept": "application/json", "X-CSRF-Token": csrf } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (data) {
        var note = document.createElement("p");
        note.className = "muted feed-dismissed";
        note.setAttribute("role", "status");
        note.textContent = data.message || "";
        card.replaceChildren(note);
        if (author) { removeOtherCardsBy(author, card); }
      })
      .catch(function () { form.submit(); });
  }

  function bind(root) {
    root.querySelectorAll("[data-feed-card]").forEach(function (why) {
      var card = why.closest("article");
      if (!card || card.dataset.feedBound) { return; }
      card.dataset.feedBound = "1";
      var id = why.getAttribute("data-feed-card");
      card.setAttribute("data-feed-note", id);
      if (observer) { observer.observe(card); }
      var link = card.querySelector(".note-card-link");
      if (link) { link.addEventListener("click", function () { if (token()) { rememberOpen(id); } }); }
      why.querySelectorAll("form[data-feed-action]").forEach(function (form) {
        form.addEventListener("submit", function (event) { event.preventDefault(); dismiss(form); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var grid = document.querySelector("[data-feed-grid]");
    if (!grid) { return; }
    bind(grid);
    // notes.js appends the next page's cards when "More notes" scrolls into view.
    new MutationObserver(function () { bind(grid); }).observe(grid, { childList: true });
  });
  window.addEventListener("pageshow", reportDwell);  // also when coming back from the bfcache
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(true); }
  });
  window.addEventListener("pagehide", function () { flush(true); });
})();
