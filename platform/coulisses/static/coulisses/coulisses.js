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
      return original.call(this, options, callback);
    };
    $.fn.daterangepicker.coulisses = true;
  }
  if (window.jQuery) { window.jQuery(localiseDatePicker); }

  window.Coulisses = Object.assign(window.Coulisses || {}, {
    locale: locale, t: t, format: format, formatMoney: formatMoney, formatNumber: formatNumber,
    formatDate: formatDate, readJSON: readJSON
  });
})();
