/* The sales screen's availability panel (templates/sales/_availability_panel.html): when a performance is
 * chosen, after each change of the basket and every 20 seconds, the figures of the chosen performance are
 * read from /admin/sales/availability/<id>.json and drawn in the panel's table. No framework. */
(function () {
  "use strict";
  var panel = document.getElementById("availability-panel");
  if (!panel) { return; }
  var rows = document.getElementById("availability-panel-rows");
  var label = document.getElementById("availability-panel-label");
  var status = document.getElementById("availability-panel-status");
  var current = null;
  var timer = null;

  function chosen() {
    var radio = document.querySelector("input[name=performance_choice]:checked");
    return radio ? radio.value : null;
  }

  function cell(text, numeric, header) {
    var td = document.createElement(header ? "th" : "td");
    if (header) { td.setAttribute("scope", "row"); }
    td.textContent = text;
    if (numeric) { td.className = "text-right"; }
    return td;
  }

  function draw(data) {
    rows.textContent = "";
    data.categories.concat([{label: "Σ", sold: data.sold, reserved: data.reserved, held: data.held,
                             available: data.available, total: true}]).forEach(function (c) {
      var tr = document.createElement("tr");
      if (c.total) { tr.className = "font-weight-bold"; }
      tr.setAttribute("data-category", c.code || "");
      tr.appendChild(cell(c.label, false, true));
      [c.sold, c.reserved, c.held, c.available].forEach(function (n) { tr.appendChild(cell(String(n), true)); });
      rows.appendChild(tr);
    });
    label.textContent = "— " + data.label;
    var now = new Date();
    var time = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2) + ":" +
      ("0" + now.getSeconds()).slice(-2);
    status.textContent = panel.getAttribute("data-updated").replace("{time}", time);
  }

  function refresh() {
    var id = chosen();
    if (!id) { return; }
    current = id;
    fetch(panel.getAttribute("data-url") + id + ".json", {headers: {Accept: "application/json"},
                                                          credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && current === id) { draw(data); } })
      .catch(function () { /* the next refresh tries again */ });
  }

  document.addEventListener("change", function (e) {
    if (e.target && e.target.name === "performance_choice") { refresh(); }
  });
  document.addEventListener("click", function (e) {
    var t = e.target && e.target.closest ? e.target.closest("#add-line, .basket-remove, [data-remove-line]") : null;
    if (t) { window.setTimeout(refresh, 300); }
  });
  timer = window.setInterval(refresh, 20000);
  refresh();
  window.CoulissesAvailability = {refresh: refresh, timer: timer};
})();
