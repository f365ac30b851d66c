(function () {
  // A faceted chart (usermeta.b2bFill) cannot take its container's width by itself:
  // its cells get the width of the page, less room for the axis and row labels.
  function fit(spec, node) {
    var meta = spec.usermeta || {};
    if (meta.b2bFill && node.clientWidth > 0) {
      spec.width = Math.max(160, node.clientWidth - 140);
    }
    // a title longer than the page would shrink the plot to make room: cut it instead
    if (spec.title && node.clientWidth > 0) {
      if (typeof spec.title === "string") { spec.title = {text: spec.title}; }
      spec.title.limit = Math.max(120, node.clientWidth - 16);
    }
    return spec;
  }
  function renderAll() {
    var nodes = document.querySelectorAll("div.b2b-chart[data-b2b-spec]");
    nodes.forEach(function (node) {
      var source = document.getElementById(node.getAttribute("data-b2b-spec"));
      if (!source || !window.vegaEmbed) { return; }
      var spec = fit(JSON.parse(source.textContent), node);
      var opts = JSON.parse(node.getAttribute("data-b2b-embed") || "{}");
      window.vegaEmbed(node, spec, opts).catch(function (err) {
        node.textContent = "This chart could not be drawn: " + err;
        console.error(err);
      });
    });
  }
  // A table.sortable sorts by a column when its header is clicked (again: reversed);
  // cells sort by their data-value (numbers) or their text.
  function sortable(table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, index) {
      th.setAttribute("role", "button");
      th.tabIndex = 0;
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.getAttribute("data-sort") === "number";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        function key(row) {
          var cell = row.cells[index];
          if (!numeric) { return cell.textContent.trim().toLowerCase(); }
          var v = cell.getAttribute("data-value");
          return v === "" || v === null ? null : parseFloat(v);
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (x === y) { return 0; }
          if (x === null) { return 1; }
          if (y === null) { return -1; }
          return (x < y ? -1 : 1) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  }
  function start() {
    document.querySelectorAll("table.sortable").forEach(sortable);
    renderAll();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
