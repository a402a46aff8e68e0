/* The waiting account's panel under the payment rows (sell screen, an order's "Payer le solde"):
 * once an amount is typed in a "Compte d'attente" row, the account's outstanding now and after the sale
 * and the proposed schedule (GET /api/v1/waiting-account/proposed-schedule); the operator may change
 * the dates and amounts, add or remove an instalment. The schedule shown is posted as JSON in the row's
 * hidden input pay-<CODE>-schedule; the server checks it again (the sum, the order of the dates). */
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

  function addMonth(iso) {
    var d = iso ? new Date(iso + "T12:00:00") : new Date();
    if (isNaN(d.getTime())) { d = new Date(); }
    d.setMonth(d.getMonth() + 1);
    return d.toISOString().slice(0, 10);
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
        rows = kept.map(function (r) { return { due_date: String(r.due_date || ""), amount: String(r.amount || "") }; });
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
      var dates = rows.map(function (r) { return r.due_date; });
      if (dates.join() !== dates.slice().sort().join()) {
        text += " " + t("wa.order");
        sumBox.classList.add("text-danger");
      }
      sumBox.textContent = text;
    }

    function changed() { edited = true; write(); check(); }

    function draw() {
      body.textContent = "";
      rows.forEach(function (r, i) {
        var n = i + 1, tr = document.createElement("tr");
        var num = document.createElement("td");
        num.textContent = String(n);
        var dateCell = document.createElement("td"), date = document.createElement("input");
        date.type = "date";
        date.className = "form-control form-control-sm wa-due";
        date.value = r.due_date;
        date.setAttribute("aria-label", t("wa.due", { n: n }));
        date.setAttribute("data-testid", "wa-due-" + code + "-" + n);
        date.addEventListener("input", function () { r.due_date = date.value; changed(); });
        dateCell.appendChild(date);
        var amountCell = document.createElement("td"), amount = document.createElement("input");
        amount.type = "text";
        amount.inputMode = "decimal";
        amount.className = "form-control form-control-sm text-right wa-amount";
        amount.value = r.amount;
        amount.setAttribute("aria-label", t("wa.amount", { n: n }));
        amount.setAttribute("data-testid", "wa-amount-" + code + "-" + n);
        amount.addEventListener("input", function () { r.amount = amount.value; changed(); });
        amountCell.appendChild(amount);
        var removeCell = document.createElement("td"), remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn btn-sm btn-link text-danger p-0 px-1 wa-remove";
        remove.setAttribute("aria-label", t("wa.remove", { n: n }));
        remove.innerHTML = "<span aria-hidden=\"true\">&times;</span>";
        remove.addEventListener("click", function () {
          rows.splice(i, 1);
          changed();
          draw();
          var next = body.querySelectorAll(".wa-remove")[Math.min(i, rows.length - 1)];
          (next || panel.querySelector(".wa-add")).focus();
        });
        removeCell.appendChild(remove);
        [num, dateCell, amountCell, removeCell].forEach(function (td) { tr.appendChild(td); });
        body.appendChild(tr);
      });
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
            rows = res.d.schedule.map(function (r) { return { due_date: r.due_date, amount: r.amount }; });
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
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
