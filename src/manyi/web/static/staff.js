// manyi staff pages: draw each chart from its JSON data block, and sort tables by a column.
// Progressive enhancement only: every figure is also in a table without JavaScript.
(function () {
  "use strict";
  if (window.Plotly) {
    document.querySelectorAll(".plot[data-figure]").forEach(function (div) {
      var data = document.getElementById(div.getAttribute("data-figure"));
      if (!data) { div.remove(); return; }
      var fig = JSON.parse(data.textContent);
      fig.layout = fig.layout || {};
      fig.layout.autosize = true;
      fig.layout.margin = fig.layout.margin || { l: 50, r: 20, t: 50, b: 60 };
      window.Plotly.newPlot(div, fig.data, fig.layout, { responsive: true, displaylogo: false });
    });
  }
  function key(cell) {
    var t = cell.textContent.trim();
    var n = parseFloat(t.replace(/[%,]/g, ""));
    return isNaN(n) ? t : n;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          if (x === y) { return 0; }
          return (x > y ? 1 : -1) * (asc ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  // Keyboard: j / k move through the rows of a list (Enter opens), n a new case, / the search box.
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (ev.altKey || ev.ctrlKey || ev.metaKey || tag === "input" || tag === "textarea" || tag === "select") { return; }
    var links = Array.prototype.slice.call(document.querySelectorAll("table.keys tbody tr td:first-child a"));
    var at = links.indexOf(document.activeElement);
    if ((ev.key === "j" || ev.key === "k") && links.length) {
      var next = ev.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[next].focus();
      ev.preventDefault();
    } else if (ev.key === "n" && document.querySelector("a[data-key=n]")) {
      window.location.href = document.querySelector("a[data-key=n]").getAttribute("href");
    } else if (ev.key === "/") {
      var box = document.querySelector("input[type=search]");
      if (box) { box.focus(); ev.preventDefault(); }
    }
  });
})();
