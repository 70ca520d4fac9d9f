/* The Translate button without a page reload. Without JS the form posts and the server
   redirects back to the note with the translation; this only enhances that. */
(function () {
  "use strict";
  if (window.redfedTranslate) return; // the fragment may be included more than once
  window.redfedTranslate = true;

  document.addEventListener("submit", async function (event) {
    var form = event.target.closest("form.js-translate");
    if (!form) return;
    event.preventDefault();
    var button = form.querySelector("button");
    var status = form.querySelector("[role=status]");
    button.disabled = true;
    status.textContent = status.dataset.busyLabel;
    try {
      var response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      var data = await response.json();
      if (!response.ok) throw new Error(data.error || String(response.status));
      // The server renders the fragment from sanitised HTML (the same as without JS).
      var template = document.createElement("template");
      template.innerHTML = data.html;
      var section = template.content.querySelector(".note-translation");
      form.closest(".note-translation").replaceWith(section);
      var text = section.querySelector(".note-translation-text");
      if (text) text.setAttribute("tabindex", "-1"), text.focus();
    } catch (error) {
      status.textContent = status.dataset.errorLabel;
      button.disabled = false;
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.js-show-original");
    if (!link) return;
    event.preventDefault();
    var text = link.closest(".note-translation").querySelector(".note-translation-text");
    var label = link.textContent;
    text.hidden = !text.hidden;
    link.textContent = link.dataset.hideLabel;
    link.dataset.hideLabel = label;
  });
})();
