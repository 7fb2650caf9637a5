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
})();
