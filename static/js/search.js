// User search: live requests from the top bar's box, clean URLs, and the count announced.
// Everything here refines htmx attributes in _topbar.html; the page works without it.
(function () {
  "use strict";

  var lastSubmitted = null;

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "topbar-search") return;
    var params = event.detail.parameters;
    // Filters left at "Any" stay out of the URL that htmx pushes.
    document.querySelectorAll(".search-filter").forEach(function (filter) {
      var name = filter.name;
      if (params[name] === "" && typeof params.delete === "function") params.delete(name);
    });
    var trigger = event.detail.triggeringEvent;
    var query = params.q || "";
    if (trigger && trigger.type === "input") {
      // The box changed while typing: list matches, never jump to a record. A late
      // timer for the text just submitted would only undo that submission: drop it.
      if (query === lastSubmitted) {
        event.preventDefault();
        return;
      }
      event.detail.headers["X-Live-Search"] = "true";
    } else {
      lastSubmitted = query;
    }
  });

  // Read the new count into the stable live region, so screen readers hear it.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "search-results") return;
    var count = event.detail.target.querySelector(".search-count");
    var region = document.getElementById("search-announce");
    if (count && region) region.textContent = count.textContent;
  });
})();
