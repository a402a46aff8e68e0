/* Coulisses: what every screen's JavaScript shares — the operator's language and formats, the
 * translated strings a page gives (coulisses.i18n.js_messages), the localised date picker.
 * Data comes from <script type="application/json"> blocks: no inline code (content security policy). */
(function () {
  "use strict";

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  var locale = readJSON("coulisses-locale") || {language: document.documentElement.lang || "fr", currency: "EUR",
                                                datePattern: "dd.MM.yyyy", firstDay: 1, months: [], days: []};
  var messages = null;

  function t(key, fallback) {
    if (messages === null) {
      messages = {};
      document.querySelectorAll('script[type="application/json"][id$="-i18n"]').forEach(function (el) {
        try { Object.assign(messages, JSON.parse(el.textContent)); } catch (e) { /* not ours */ }
      });
    }
    var text = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : (fallback || key);
    return text;
  }

  function format(text, values) {
    return String(text).replace(/%\((\w+)\)[sd]/g, function (m, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? values[name] : m;
    });
  }

  var moneyFormat = null;
  function formatMoney(amount) {
    if (amount === null || amount === undefined || amount === "") { return ""; }
    if (moneyFormat === null) {
      moneyFormat = new Intl.NumberFormat(locale.language, {style: "currency", currency: locale.currency});
    }
    /* amounts travel as decimal strings ("2420.00"); Intl needs a number only for display */
    return moneyFormat.format(Number(amount));
  }

  function formatNumber(value) {
    return new Intl.NumberFormat(locale.language).format(Number(value));
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function formatDate(d) {
    return locale.datePattern.replace("dd", pad(d.getDate())).replace("MM", pad(d.getMonth() + 1))
      .replace("yyyy", String(d.getFullYear()));
  }
  /* A day typed as the operator's language writes it (formatDate's pattern): a Date, or null. */
  function parseDate(text) {
    var p = locale.datePattern, order = ["dd", "MM", "yyyy"].sort(function (a, b) { return p.indexOf(a) - p.indexOf(b); });
    var re = new RegExp("^" + p.replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&").replace("dd", "(\\d{1,2})")
      .replace("MM", "(\\d{1,2})").replace("yyyy", "(\\d{4})") + "$");
    var m = re.exec(String(text == null ? "" : text).trim());
    if (!m) { return null; }
    var v = {};
    order.forEach(function (key, i) { v[key] = parseInt(m[i + 1], 10); });
    var d = new Date(v.yyyy, v.MM - 1, v.dd, 12);
    return d.getFullYear() === v.yyyy && d.getMonth() === v.MM - 1 && d.getDate() === v.dd ? d : null;
  }

  /* Flask-Admin's date pickers (bootstrap-daterangepicker): the operator's language, Monday first.
   * Wrapped when the page is ready — before Flask-Admin's own ready handler, registered later, applies them. */
  function localiseDatePicker() {
    var $ = window.jQuery;
    if (!$ || !$.fn || !$.fn.daterangepicker || $.fn.daterangepicker.coulisses) { return; }
    var original = $.fn.daterangepicker;
    $.fn.daterangepicker = function (options, callback) {
      options = options || {};
      options.locale = Object.assign({
        applyLabel: t("apply", "OK"), cancelLabel: t("cancel", "Annuler"),
        fromLabel: t("from", "Du"), toLabel: t("to", "au"),
        daysOfWeek: locale.days, monthNames: locale.months, firstDay: locale.firstDay
      }, options.locale || {});
      var result = original.call(this, options, callback);
      this.each(function () { typeAsWritten($(this)); });
      return result;
    };
    $.fn.daterangepicker.coulisses = true;
  }

  /* The picker (1.3) reads the box at every key and writes its own reading back: "02" typed became
   * "02.12.2026" and the rest of the date went after it. Here the box is the operator's: the calendar
   * follows a date (or range) once it is complete and valid, and the text typed is never rewritten. */
  function typeAsWritten($el) {
    var picker = $el.data("daterangepicker");
    if (!picker || !$el.is("input") || !window.moment) { return; }
    $el.off("keyup.daterangepicker").on("keyup.daterangepicker", function () {
      var value = $el.val(), parts = picker.singleDatePicker ? [value] : value.split(picker.separator);
      var days = parts.map(function (part) { return window.moment(part.trim(), picker.format, true); });
      if (!value || days.length > 2 || days.some(function (d) { return !d.isValid(); })) { return; }
      var start = days[0].startOf("day"), end = days[days.length - 1].clone().endOf("day");
      if (end.isBefore(start)) { return; }
      picker.startDate = start; picker.endDate = end;
      picker.oldStartDate = start.clone(); picker.oldEndDate = end.clone();  // nothing to write back on hide
      picker.updateView();
      picker.updateCalendars();
    });
  }
  if (window.jQuery) { window.jQuery(localiseDatePicker); }


  /* The keyboard shortcuts panel: Alt+? (Alt+Shift+/ on most layouts) or the menu's "?" button. It lists
   * the host's shortcuts, then every element of the page declaring one with the standard
   * aria-keyshortcuts attribute (what plugins do), labelled by its aria-label, text or title.
   * A modal dialog: Tab stays inside, Escape closes it, the focus goes back where it was. */
  function shortcutLabel(el) {
    var label = el.getAttribute("aria-label");
    var by = el.getAttribute("aria-labelledby");
    if (!label && by) {
      label = by.split(/\s+/).map(function (id) {
        var ref = document.getElementById(id);
        return ref ? ref.textContent : "";
      }).join(" ");
    }
    if (!label || !label.trim()) { label = el.textContent; }
    if ((!label || !label.trim()) && el.value && el.tagName === "INPUT") { label = el.value; }
    if (!label || !label.trim()) { label = el.getAttribute("title") || ""; }
    return label.replace(/\s+/g, " ").trim();
  }

  function keysCell(value) {
    var td = document.createElement("td");
    value.trim().split(/\s+/).forEach(function (combo, i) {
      if (i) { td.appendChild(document.createTextNode(" / ")); }
      combo.split("+").forEach(function (key, j) {
        if (j) { td.appendChild(document.createTextNode(" + ")); }
        var kbd = document.createElement("kbd");
        kbd.textContent = key;
        td.appendChild(kbd);
      });
    });
    return td;
  }

  function pageShortcuts(dialog) {
    var found = [];
    document.querySelectorAll("[aria-keyshortcuts]").forEach(function (el) {
      if (dialog.contains(el) || el.hasAttribute("data-shortcuts-open")) { return; }
      var keys = (el.getAttribute("aria-keyshortcuts") || "").trim();
      if (keys) { found.push({keys: keys, label: shortcutLabel(el)}); }
    });
    return found;
  }

  function initShortcuts() {
    var dialog = document.getElementById("coulisses-shortcuts");
    if (!dialog) { return; }
    var body = dialog.querySelector("[data-shortcuts-page]");
    var none = dialog.querySelector("[data-shortcuts-none]");
    var returnTo = null;

    function fill() {
      body.textContent = "";
      var found = pageShortcuts(dialog);
      found.forEach(function (item) {
        var tr = document.createElement("tr");
        var label = document.createElement("td");
        label.textContent = item.label;
        tr.appendChild(keysCell(item.keys));
        tr.appendChild(label);
        body.appendChild(tr);
      });
      none.classList.toggle("d-none", found.length > 0);
    }

    function open() {
      if (dialog.open) { return; }
      returnTo = document.activeElement;
      fill();
      if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
      var first = dialog.querySelector("[data-shortcuts-close]");
      if (first) { first.focus(); }
    }

    function close() {
      if (!dialog.open) { return; }
      if (dialog.close) { dialog.close(); } else { dialog.removeAttribute("open"); }
    }

    dialog.addEventListener("close", function () {
      var target = returnTo;
      returnTo = null;
      if (target && target.focus && document.contains(target)) { target.focus(); }
    });

    function focusables() {
      return Array.prototype.filter.call(dialog.querySelectorAll(
        "button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])"), function (el) {
        return !el.disabled && el.offsetParent !== null;
      });
    }

    dialog.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); close(); return; }
      if (e.key !== "Tab") { return; }
      var items = focusables();
      if (!items.length) { e.preventDefault(); return; }
      var first = items[0], last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    });
    dialog.addEventListener("cancel", function (e) { e.preventDefault(); close(); });
    dialog.addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("[data-shortcuts-close]")) { close(); }
    });

    document.addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("[data-shortcuts-open]")) { e.preventDefault(); open(); }
    });
    document.addEventListener("keydown", function (e) {
      var isHelp = e.altKey && !e.ctrlKey && !e.metaKey && (e.key === "?" || (e.shiftKey && e.code === "Slash"));
      if (!isHelp) { return; }
      e.preventDefault();
      if (dialog.open) { close(); } else { open(); }
    });
    window.Coulisses.openShortcuts = open;
  }

  window.Coulisses = Object.assign(window.Coulisses || {}, {
    locale: locale, t: t, format: format, formatMoney: formatMoney, formatNumber: formatNumber,
    formatDate: formatDate, parseDate: parseDate, readJSON: readJSON
  });

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", initShortcuts); }
  else { initShortcuts(); }
})();
