// Notes: blurhash placeholders, photo carousel, infinite scroll, like/collect without reload.
// Small and optional: every action is a plain form that works without this script.
(function () {
  "use strict";
  var B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function d83(s) { var v = 0; for (var i = 0; i < s.length; i++) { v = v * 83 + B83.indexOf(s[i]); } return v; }
  function toLinear(c) { var v = c / 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  function toSrgb(v) { v = Math.max(0, Math.min(1, v)); return Math.round((v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255); }
  function signPow(v, e) { return (v < 0 ? -1 : 1) * Math.pow(Math.abs(v), e); }

  // Decode a blurhash (the format's public description) into the canvas's pixels.
  function drawBlurhash(canvas) {
    var hash = canvas.getAttribute("data-blurhash") || "";
    if (hash.length < 6) { return; }
    var size = d83(hash[0]), nx = (size % 9) + 1, ny = Math.floor(size / 9) + 1;
    if (hash.length !== 4 + 2 * nx * ny) { return; }
    var maxAc = (d83(hash[1]) + 1) / 166, colors = [];
    var dc = d83(hash.substring(2, 6));
    colors.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
    for (var k = 1; k < nx * ny; k++) {
      var v = d83(hash.substring(4 + k * 2, 6 + k * 2));
      colors.push([signPow((Math.floor(v / 361) - 9) / 9, 2) * maxAc,
                   signPow((Math.floor(v / 19) % 19 - 9) / 9, 2) * maxAc,
                   signPow((v % 19 - 9) / 9, 2) * maxAc]);
    }
    var w = canvas.width, h = canvas.height, ctx = canvas.getContext("2d");
    if (!ctx) { return; }
    var img = ctx.createImageData(w, h);
    for (var y = 0; y < h; y++) {
      for (var x = 0; x < w; x++) {
        var r = 0, g = 0, b = 0;
        for (var j = 0; j < ny; j++) {
          for (var i = 0; i < nx; i++) {
            var basis = Math.cos(Math.PI * x * i / w) * Math.cos(Math.PI * y * j / h), c = colors[i + j * nx];
            r += c[0] * basis; g += c[1] * basis; b += c[2] * basis;
          }
        }
        var p = 4 * (x + y * w);
        img.data[p] = toSrgb(r); img.data[p + 1] = toSrgb(g); img.data[p + 2] = toSrgb(b); img.data[p + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }

  function placeholders(root) {
    root.querySelectorAll("canvas[data-blurhash]").forEach(function (canvas) {
      drawBlurhash(canvas);
      var img = canvas.parentNode.querySelector("img");
      if (img) {
        var hide = function () { canvas.style.visibility = "hidden"; };
        if (img.complete && img.naturalWidth) { hide(); } else { img.addEventListener("load", hide); }
      }
    });
  }

  function carousel(box) {
    var track = box.querySelector(".carousel-track"), slides = track.children, index = box.querySelector("[data-carousel-index]");
    if (slides.length < 2) { return; }
    function go(step) { track.scrollBy({ left: step * track.clientWidth, behavior: "smooth" }); }
    ["prev", "next"].forEach(function (name, n) {
      var button = document.createElement("button");
      button.type = "button"; button.className = "carousel-nav " + name;
      button.setAttribute("aria-label", name === "prev" ? "‹" : "›"); button.textContent = name === "prev" ? "‹" : "›";
      button.addEventListener("click", function () { go(n === 0 ? -1 : 1); });
      box.appendChild(button);
    });
    track.addEventListener("scroll", function () {
      if (index) { index.textContent = String(Math.round(track.scrollLeft / track.clientWidth) + 1); }
    }, { passive: true });
  }

  // Like and collect: post the same form with fetch, flip the button and the count.
  function toggleForms(root) {
    root.querySelectorAll("form[data-like], form[data-collect]").forEach(function (form) {
      if (form.dataset.bound) { return; }
      form.dataset.bound = "1";
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var token = form.querySelector("input[name=csrf_token]").value, button = form.querySelector("button");
        button.disabled = true;
        fetch(form.action, { method: "POST", credentials: "same-origin", body: new FormData(form),
                             headers: { "Accept": "application/json", "X-CSRF-Token": token } })
          .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
          .then(function (data) {
            var like = form.hasAttribute("data-like"), on = like ? data.liked : data.collected;
            var base = form.action.replace(/\/(un)?(like|collect)$/, "");
            form.action = base + "/" + (on ? "un" : "") + (like ? "like" : "collect");
            button.classList.toggle(like ? "is-liked" : "is-collected", on);
            button.setAttribute("aria-pressed", on ? "true" : "false");
            form.querySelector("[data-count]").textContent = String(like ? data.likes_count : data.collects_count);
          })
          .catch(function () { form.submit(); })
          .finally(function () { button.disabled = false; });
      });
    });
  }

  // Infinite scroll: when the "More notes" link comes into view, fetch the next cards.
  function infinite(grid) {
    if (!("IntersectionObserver" in window)) { return; }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) { return; }
        var link = entry.target;
        observer.unobserve(link);
        fetch(link.href + "&partial=1", { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var holder = document.createElement("div");
            holder.innerHTML = html;  // our own server-rendered, escaped cards
            link.remove();
            Array.prototype.slice.call(holder.children).forEach(function (child) { grid.appendChild(child); });
            setup(grid);
            grid.querySelectorAll("[data-more]").forEach(function (more) { observer.observe(more); });
          });
      });
    }, { rootMargin: "600px" });
    grid.querySelectorAll("[data-more]").forEach(function (link) { observer.observe(link); });
  }

  function setup(root) { placeholders(root); toggleForms(root); }

  document.addEventListener("DOMContentLoaded", function () {
    setup(document);
    document.querySelectorAll("[data-carousel]").forEach(carousel);
    document.querySelectorAll("[data-grid]").forEach(infinite);
  });
})();
