/* "Échange - annulation": keyboard shortcuts (Alt+B: the scan field, Alt+C: the contact search,
   Alt+P: "Plage" on or off — the scans come in pairs, the first and the last ticket of a range),
   the contact autocomplete (CoulissesContacts.Autocomplete: choosing saves the basket's contact),
   the product tabs (ARIA tabs: arrow keys move between them). */
(function () {
  "use strict";
  function $(sel) { return document.querySelector(sel); }

  document.addEventListener("keydown", function (e) {
    if (!e.altKey) { return; }
    var key = (e.key || "").toLowerCase();
    if (key === "p" && $("#scan-range-toggle")) { e.preventDefault(); $("#scan-range-toggle").click(); return; }
    var target = key === "b" ? $("#scan") : (key === "c" ? $("#contact-search") : null);
    if (target) { e.preventDefault(); target.focus(); }
  });

  function initContact() {
    var input = $("#contact-search");
    if (!input || !window.CoulissesContacts || input.disabled) { return; }
    window.CoulissesContacts.Autocomplete(input, {
      mode: "number",
      soleOnEnter: true,  // Enter takes the only contact proposed, never submits the form by accident
      onChoose: function (entry) {
        $("#contact").value = entry.item.number;
        input.value = entry.text;
        $("#options-form").submit();
      }
    });
  }

  function initTabs() {
    var list = $("#kind-tabs");
    if (!list) { return; }
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    function select(tab) {
      tabs.forEach(function (t) {
        var on = t === tab;
        t.classList.toggle("active", on);
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      });
      tab.focus();
    }
    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () { select(tab); });
      tab.addEventListener("keydown", function (e) {
        var next = null;
        if (e.key === "ArrowRight") { next = tabs[(i + 1) % tabs.length]; }
        if (e.key === "ArrowLeft") { next = tabs[(i - 1 + tabs.length) % tabs.length]; }
        if (e.key === "Home") { next = tabs[0]; }
        if (e.key === "End") { next = tabs[tabs.length - 1]; }
        if (next) { e.preventDefault(); select(next); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { initContact(); initTabs(); });
}());
