// Patron Desk: small behaviours on top of htmx; every page also works without this file.
(function () {
  "use strict";

  // Errors that htmx does not swap (400, 403, 404, 500…) appear in the message area.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("messages");
    if (!box) return;
    var xhr = event.detail.xhr;
    var template = document.createElement("template");
    template.innerHTML = xhr.responseText || "";
    var found = template.content.querySelector(".error-box");
    box.replaceChildren();
    if (found) {
      box.appendChild(found);
    } else {
      var p = document.createElement("p");
      p.className = "flash flash-error";
      p.textContent = "The request failed (" + xhr.status + "). Nothing was changed.";
      box.appendChild(p);
    }
  });

  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("messages");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.textContent = "The server could not be reached. Nothing was changed.";
    box.replaceChildren(p);
  });

  // A menu closes when focus or a click leaves it, or on Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });
})();

// Open for Update: the link opens its <dialog> as a modal (focus is trapped inside and
// returns to the link on Cancel or Escape); without JavaScript the link opens a page.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog]");
    if (!opener) return;
    var dialog = document.getElementById(opener.getAttribute("data-dialog"));
    if (!dialog || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    dialog.showModal();
    var first = dialog.querySelector("button");
    if (first) first.focus();
    dialog.addEventListener("close", function () { opener.focus(); }, { once: true });
  });
  // An answer swaps the record in place; close the dialog first so focus moves on cleanly.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var dialog = event.target.closest && event.target.closest("dialog[open]");
    if (dialog) dialog.close();
  });
})();
