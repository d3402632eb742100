(function () {
  "use strict";
  var filters = document.getElementById("filters");
  function apply() {
    var text = (document.getElementById("filter-text").value || "").toLowerCase();
    var claim = document.getElementById("filter-claim").value;
    var wanted = {};
    Array.prototype.forEach.call(filters.querySelectorAll("input[type=checkbox]"), function (box) {
      wanted[box.value] = box.checked;
    });
    var shown = 0;
    Array.prototype.forEach.call(document.querySelectorAll("[data-finding]"), function (row) {
      var visible = wanted[row.getAttribute("data-severity")] !== false &&
        (!claim || (" " + row.getAttribute("data-claims") + " ").indexOf(" " + claim + " ") >= 0) &&
        (!text || row.textContent.toLowerCase().indexOf(text) >= 0);
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    document.getElementById("filter-count").textContent = shown + " shown";
  }
  if (filters) {
    filters.addEventListener("input", apply);
    filters.addEventListener("change", apply);
  }
  window.addEventListener("beforeprint", function () {
    // inventory names stay collapsed on a large estate: the PDF shows their counts
    Array.prototype.forEach.call(document.querySelectorAll("details:not(.names-closed)"), function (d) { d.open = true; });
    Array.prototype.forEach.call(document.querySelectorAll("[data-finding]"), function (row) { row.hidden = false; });
  });
}());
