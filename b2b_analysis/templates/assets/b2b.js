(function () {
  function renderAll() {
    var nodes = document.querySelectorAll("div.b2b-chart[data-b2b-spec]");
    nodes.forEach(function (node) {
      var source = document.getElementById(node.getAttribute("data-b2b-spec"));
      if (!source || !window.vegaEmbed) { return; }
      var spec = JSON.parse(source.textContent);
      var opts = JSON.parse(node.getAttribute("data-b2b-embed") || "{}");
      window.vegaEmbed(node, spec, opts).catch(function (err) {
        node.textContent = "This chart could not be drawn: " + err;
        console.error(err);
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
})();
