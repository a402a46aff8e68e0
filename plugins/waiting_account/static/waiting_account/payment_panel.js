/* The waiting account's panel under the payment rows (sell screen, an order's "Payer le solde"):
 * once an amount is typed in a "Compte d'attente" row, the account's outstanding now and after the sale
 * and the proposed schedule (GET /api/v1/waiting-account/proposed-schedule); the operator may change
 * the dates and amounts, add or remove an instalment. The schedule shown is posted as JSON in the row's
 * hidden input pay-<CODE>-schedule; the server checks it again (the sum, the order of the dates).
 * The due dates are the product's date picker (Flask-Admin's, localised by coulisses.js): shown and typed
 * in the operator's pattern (05.12.2026 in French, 05/12/2026 in English and Spanish) and posted as typed;
 * the API's ISO dates are turned into it here. */
(function () {
  "use strict";

  var C = window.Coulisses;
  function t(key, values) { return C.format(C.t("waiting_account_" + key.slice(3)), values || {}); }

  function cents(text) {
    var s = String(text == null ? "" : text).replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
    if (!/^\d+(\.\d{0,2})?$/.test(s)) { return NaN; }
    return Math.round(parseFloat(s) * 100);
  }
  function plain(c) { return (c / 100).toFixed(2); }

  function local(iso) {  // the API's "2026-12-05" as the operator writes it
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
    return m ? C.formatDate(new Date(+m[1], +m[2] - 1, +m[3], 12)) : String(iso || "");
  }
  function isoOf(d) { return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2); }

  function addMonth(text) {
    var d = C.parseDate(text) || new Date();
    d.setMonth(d.getMonth() + 1);
    return C.formatDate(d);
  }

  /* One cell of a schedule row: a <td> holding a <tag> of this type and class, named for assistive
   * technologies by label; returns the element. */
  function cell(tr, tag, type, className, label, testid) {
    var td = document.createElement("td"), el = document.createElement(tag);
    el.type = type;
    el.className = className;
    el.setAttribute("aria-label", label);
    if (testid) { el.setAttribute("data-testid", testid); }
    td.appendChild(el);
    tr.appendChild(td);
    return el;
  }

  function contactOf(panel) {
    if (panel.getAttribute("data-contact")) { return panel.getAttribute("data-contact"); }
    var payer = document.getElementById("payer"), structure = document.getElementById("for-structure"),
        buyer = document.getElementById("buyer");
    if (payer && payer.value) { return payer.value; }
    if (structure && structure.checked && structure.value) { return structure.value; }
    return buyer ? buyer.value : "";
  }

  function Panel(panel) {
    var code = panel.getAttribute("data-mode");
    var amountInput = document.getElementById(panel.getAttribute("data-for"));
    var hidden = document.getElementById(panel.getAttribute("data-field"));
    var body = panel.querySelector(".wa-schedule tbody");
    var sumBox = panel.querySelector(".wa-sum"), outBox = panel.querySelector(".wa-outstanding");
    var rows = [], edited = false, timer = null, asked = 0;
    if (!amountInput || !hidden) { return; }
    try {
      var kept = hidden.value ? JSON.parse(hidden.value) : null;  // a refused form comes back with it
      if (Array.isArray(kept) && kept.length) {
        rows = kept.map(function (r) { return { due_date: local(r.due_date), amount: String(r.amount || "") }; });
        edited = true;
      }
    } catch (e) { /* unreadable: the proposal replaces it */ }

    function write() {
      hidden.value = rows.length && amountInput.value.trim() ? JSON.stringify(rows.map(function (r) {
        var c = cents(r.amount);
        return { due_date: r.due_date, amount: isNaN(c) ? r.amount : plain(c) };
      })) : "";
    }

    function check() {
      var total = cents(amountInput.value), sum = 0, bad = false;
      rows.forEach(function (r) { var c = cents(r.amount); if (isNaN(c)) { bad = true; } else { sum += c; } });
      sumBox.classList.remove("text-danger", "sales-ok");
      if (isNaN(total) || !rows.length) { sumBox.textContent = ""; return; }
      var text = t("wa.sum", { sum: C.formatMoney(plain(sum)), amount: C.formatMoney(plain(total)) });
      if (bad || sum !== total) {
        text += " " + t("wa.gap", { gap: C.formatMoney(plain(total - sum)) });
        sumBox.classList.add("text-danger");
      }
      var dates = [], inputs = body.querySelectorAll(".wa-due");
      rows.forEach(function (r, i) {
        var d = C.parseDate(r.due_date), input = inputs[i];
        if (input) {
          input.classList.toggle("is-invalid", !d);
          if (d) { input.removeAttribute("aria-invalid"); } else { input.setAttribute("aria-invalid", "true"); }
        }
        if (d) { dates.push(isoOf(d)); } else { text += " " + t("wa.badDate", { n: i + 1, pattern: input ? input.placeholder : "" }); }
      });
      if (dates.length < rows.length) { sumBox.classList.add("text-danger"); }
      if (dates.join() !== dates.slice().sort().join()) {
        text += " " + t("wa.order");
        sumBox.classList.add("text-danger");
      }
      sumBox.textContent = text;
    }

    function changed() { edited = true; write(); check(); }

    /* The date picker on a due date; what is typed (or chosen in the calendar) is the row's date. */
    function picker(input, r) {
      var $ = window.jQuery;
      input.setAttribute("data-role", "datepicker");
      input.setAttribute("data-date-format", panel.getAttribute("data-date-format") || "");
      input.placeholder = panel.getAttribute("data-date-placeholder") || "";
      input.inputMode = "numeric";
      input.autocomplete = "off";
      function typed() { r.due_date = input.value.trim(); changed(); }
      if ($ && window.faForm && $.fn.daterangepicker) {
        window.faForm.applyStyle($(input), "datepicker");
        $(input).on("input change", typed);  // the calendar writes through jQuery's change
      } else {
        input.addEventListener("input", typed);
      }
    }

    function clear() {
      var $ = window.jQuery;
      body.querySelectorAll(".wa-due").forEach(function (input) {
        var p = $ && $(input).data("daterangepicker");
        if (p) { p.remove(); }  // its calendar, appended to the page, goes with the row
      });
      body.textContent = "";
    }

    function draw() {
      clear();
      var pickers = [];
      rows.forEach(function (r, i) {
        var n = i + 1, tr = document.createElement("tr");
        var num = document.createElement("td");
        num.textContent = String(n);
        tr.appendChild(num);
        var date = cell(tr, "input", "text", "form-control form-control-sm wa-due", t("wa.due", { n: n }),
                        "wa-due-" + code + "-" + n);
        date.value = r.due_date;
        pickers.push([date, r]);
        var amount = cell(tr, "input", "text", "form-control form-control-sm text-right wa-amount",
                          t("wa.amount", { n: n }), "wa-amount-" + code + "-" + n);
        amount.inputMode = "decimal";
        amount.value = r.amount;
        amount.addEventListener("input", function () { r.amount = amount.value; changed(); });
        var remove = cell(tr, "button", "button", "btn btn-sm btn-link text-danger p-0 px-1 wa-remove",
                          t("wa.remove", { n: n }));
        remove.innerHTML = "<span aria-hidden=\"true\">&times;</span>";
        remove.addEventListener("click", function () {
          rows.splice(i, 1);
          changed();
          draw();
          var next = body.querySelectorAll(".wa-remove")[Math.min(i, rows.length - 1)];
          (next || panel.querySelector(".wa-add")).focus();
        });
        body.appendChild(tr);
      });
      pickers.forEach(function (p) { picker(p[0], p[1]); });
      write();
      check();
    }

    function showOutstanding(d) {
      outBox.classList.remove("text-danger");
      if (!d.contact) { outBox.textContent = t("wa.noContact"); return; }
      var text = t("wa.outstanding", { name: d.contact.name, now: C.formatMoney(d.outstanding),
                                       after: C.formatMoney(d.outstanding_after), ceiling: C.formatMoney(d.ceiling) });
      if (d.refusal) { text += " " + t("wa.refused", { reason: d.refusal }); outBox.classList.add("text-danger"); }
      outBox.textContent = text;
    }

    function refresh(propose) {
      var total = cents(amountInput.value);
      panel.hidden = !amountInput.value.trim() && !panel.querySelector(".wa-server-error");
      if (isNaN(total) || total <= 0) { write(); check(); return; }
      var contact = contactOf(panel), ask = ++asked;
      var url = panel.getAttribute("data-url") + "?mode=" + encodeURIComponent(code) + "&amount=" + plain(total) +
                (contact ? "&contact=" + encodeURIComponent(contact) : "");
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); })
        .then(function (res) {
          if (ask !== asked) { return; }  // a later request is on its way
          if (!res.ok) {
            outBox.textContent = t("wa.unavailable", { reason: (res.d.error && res.d.error.message) || "" });
            outBox.classList.add("text-danger");
            return;
          }
          showOutstanding(res.d);
          if (propose || !edited) {
            edited = false;
            rows = res.d.schedule.map(function (r) { return { due_date: local(r.due_date), amount: r.amount }; });
            draw();
            sumBox.setAttribute("data-proposed", String(rows.length));
          } else {
            write();
            check();
          }
        })
        .catch(function () {});
    }

    function soon() { window.clearTimeout(timer); timer = window.setTimeout(function () { refresh(false); }, 250); }

    amountInput.addEventListener("input", soon);
    amountInput.addEventListener("focus", soon);
    ["for-structure", "payer-search", "buyer-search"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.addEventListener("change", soon); el.addEventListener("blur", soon); }
    });
    panel.querySelector(".wa-add").addEventListener("click", function () {
      var total = cents(amountInput.value), sum = 0;
      rows.forEach(function (r) { var c = cents(r.amount); if (!isNaN(c)) { sum += c; } });
      rows.push({ due_date: addMonth(rows.length ? rows[rows.length - 1].due_date : ""),
                  amount: !isNaN(total) && total > sum ? plain(total - sum) : "" });
      changed();
      draw();
      var dates = body.querySelectorAll(".wa-due");
      dates[dates.length - 1].focus();
    });
    panel.querySelector(".wa-reset").addEventListener("click", function () { refresh(true); });
    draw();
    if (amountInput.value.trim()) { refresh(false); }
  }

  function init() { document.querySelectorAll(".wa-panel").forEach(Panel); }
  /* after coulisses.js has localised the date picker (its jQuery ready handler) */
  if (window.jQuery) { window.jQuery(init); }
  else if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
