/* Coulisses — sales screens: the box-office sales screen ("Vente - réservation") and the payment rows
 * of the order detail. Plain JavaScript, no build step; amounts are counted in cents.
 *
 * The buyer box reuses the contacts plugin's quick-search autocomplete (window.CoulissesContacts);
 * a new contact is created in a dialog through POST /api/v1/contacts (session cookie + X-CSRFToken).
 * Keyboard: Alt+B barcode (a scanned ticket: its order taken up), Alt+C contact, Alt+N new contact, Alt+L performances, Alt+A add, Alt+S rest in the
 * current payment, Alt+R reserve, Alt+P pay (each element carries aria-keyshortcuts: the host's help
 * panel lists them); Enter chooses / adds, never submits by accident. The seat map is one Tab stop:
 * arrows move from seat to seat, Space or Enter ticks. What changes without the focus moving is said
 * in the screen's live region (#sale-announce).
 *
 * Every string shown comes from the page (Coulisses.t, keys "sales.*": admin_common.js_strings);
 * amounts are shown with Coulisses.formatMoney, in the operator's language.
 */
(function () {
  "use strict";

  var data = null;
  var currency = "EUR";
  var lineIndex = 0;
  var seatCache = {};
  var buyerAc = null;

  // ------------------------------------------------------------------ money

  function cents(text) {
    var raw = String(text || "").replace(/[\s\u00a0\u202f€$£]/g, "");
    if (raw.indexOf(",") >= 0 && raw.indexOf(".") >= 0) { return NaN; }  // as the server: 1500,50 or 1500.50
    raw = raw.replace(",", ".");
    if (!raw) { return 0; }
    if (!/^\d+(\.\d{0,2})?$/.test(raw)) { return NaN; }
    var parts = raw.split(".");
    return parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
  }

  function money(c) {
    var C = window.Coulisses;
    if (C && C.formatMoney) { return C.formatMoney((c / 100).toFixed(2)); }
    return new Intl.NumberFormat(document.documentElement.lang || "fr", { style: "currency", currency: currency }).format(c / 100);
  }

  function decimalMark() {
    var C = window.Coulisses;
    return (C && C.locale && C.locale.decimal) || ",";
  }

  function plain(c) {  // what an operator would type: "120,00" (fr, es), "120.00" (en)
    return (c / 100).toFixed(2).replace(".", decimalMark());
  }

  function t(key, values) {
    var C = window.Coulisses;
    var text = C && C.t ? C.t(key) : key;
    return values && C && C.format ? C.format(text, values) : text;
  }

  // what a screen reader says without the focus moving (the screen's polite live region)
  function announce(text) {
    var region = document.getElementById("sale-announce") || document.getElementById("coulisses-announce");
    if (!region) { return; }
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 30);
  }

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function csrf() {
    var meta = $("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  function fold(text) {
    return String(text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  // ------------------------------------------------------------------ payments (sales screen and order detail)

  function totalCents() {
    var basket = $("#basket");
    if (basket) {
      // the lines being typed, plus what the basket's orders (taken up) still owe
      var due = cents(basket.getAttribute("data-due") || "0");
      return $$("tr.basket-line", basket).reduce(function (sum, tr) { return sum + cents(tr.getAttribute("data-amount")); },
                                                  isNaN(due) ? 0 : due);
    }
    var summary = $("#payment-summary");
    return summary ? cents(summary.getAttribute("data-total")) : 0;
  }

  function paymentState() {
    var total = totalCents(), paid = 0, change = false, invalid = false;
    $$(".payment-amount").forEach(function (input) {
      var c = cents(input.value);
      var bad = isNaN(c);
      input.classList.toggle("is-invalid", bad);
      if (bad) { input.setAttribute("aria-invalid", "true"); } else if (!input.hasAttribute("aria-describedby")) { input.removeAttribute("aria-invalid"); }
      if (bad) { invalid = true; return; }
      paid += c;
      if (c > 0 && input.closest(".payment-row").getAttribute("data-gives-change")) { change = true; }
    });
    return { total: total, paid: paid, rest: total - paid, change: change, invalid: invalid };
  }

  function refreshDue() {
    var summary = $("#payment-summary");
    if (!summary) { return; }
    var st = paymentState();
    $("#due-total").textContent = money(st.total);
    $("#due-paid").textContent = money(st.paid);
    var label = $("#due-label"), rest = $("#due-rest");
    rest.classList.remove("sales-due-text", "sales-change-text", "sales-ok");
    if (st.rest > 0) {
      label.textContent = t("sales.restDue");
      rest.textContent = money(st.rest);
    } else if (st.rest === 0) {
      label.textContent = t("sales.restDue");
      rest.textContent = money(0);
      if (st.total > 0) { rest.classList.add("sales-ok"); }
    } else if (st.change) {
      label.textContent = t("sales.change");
      rest.textContent = money(-st.rest);
      rest.classList.add("sales-change-text");
    } else {
      label.textContent = t("sales.overpaid");
      rest.textContent = money(-st.rest);
      rest.classList.add("sales-due-text");
    }
  }

  function fillRest(input) {
    if (!input) { return; }
    var st = paymentState();
    var current = cents(input.value);
    var value = Math.max(0, st.rest + (isNaN(current) ? 0 : current));
    input.value = value ? plain(value) : "";
    // as if typed: the total, the mode's fields and a plugin's payment panel (sales_payment_panels) follow
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
    input.select();
  }

  function showPaymentFields(input) {
    // the fields of the mode (cheque number, bank…) appear once an amount is typed in its row
    var box = document.querySelector('.payment-fields[data-for="' + input.id + '"]');
    if (box && input.value.trim()) { box.hidden = false; }
  }

  function initPayments() {
    $$(".payment-amount").forEach(function (input) {
      input.addEventListener("input", refreshDue);
      input.addEventListener("input", function () { showPaymentFields(input); });
      input.addEventListener("focus", function () { input.select(); });
    });
    $$(".payment-rest").forEach(function (btn) {
      btn.addEventListener("click", function () { fillRest(document.getElementById(btn.getAttribute("data-for"))); });
    });
    refreshDue();
  }

  function restShortcut() {
    var active = document.activeElement;
    if (active && active.classList.contains("payment-amount")) { fillRest(active); return; }
    var empty = $$(".payment-amount").filter(function (i) { return !i.value.trim(); })[0];
    fillRest(empty || $(".payment-amount"));
  }

  // ------------------------------------------------------------------ buyer

  function setBuyer(number, label, stay) {
    if (buyerAc) { buyerAc.reset(); }  // the list of the search is done with (a late answer included)
    $("#buyer").value = number;
    var box = $("#buyer-search");
    box.value = label;
    box.classList.remove("is-invalid");
    $("#buyer-chosen-label").textContent = label;
    $("#buyer-chosen").hidden = false;
    var sheet = $("#buyer-sheet");
    if (sheet) { sheet.href = sheet.getAttribute("data-base") + number + "/"; }
    var credit = $("#buyer-credit");
    credit.textContent = "";
    fetch("/api/v1/contacts/" + number + "/credit", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d && cents(d.balance) > 0) { credit.textContent = t("sales.credit", { amount: money(cents(d.balance)) }); } })
      .catch(function () {});
    refreshStructure(number);
    announce(t("sales.buyerChosen", { label: label }));
    if (stay) { return; }  // the caller puts the focus where it belongs
    var filter = $("#perf-filter");
    if (filter) { filter.focus(); }
  }

  // "Acheter pour la structure …": offered when the buyer is a relay (or member) of a structure
  function refreshStructure(number) {
    var box = $("#buyer-structure");
    if (!box) { return; }
    var check = $("#for-structure");
    check.checked = false;
    box.hidden = true;
    if (!number) { return; }
    fetch(box.getAttribute("data-url") + "?buyer=" + encodeURIComponent(number),
          { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d || !d.structure || String($("#buyer").value) !== String(number)) { return; }
        check.value = d.structure.number;
        $("#buyer-structure-name").textContent = d.structure.name;
        box.hidden = false;
      })
      .catch(function () {});
  }

  // "Payeur": optional, another contact who pays (the contacts autocomplete, a chooser)
  function initPayer() {
    var input = $("#payer-search");
    if (!input || !window.CoulissesContacts) { return; }
    var hidden = $("#payer");
    window.CoulissesContacts.Autocomplete(input, {
      mode: "number",
      soleOnEnter: true,  // Enter never submits the sale from the payer box; it takes the only contact proposed
      onChoose: function (entry) {
        hidden.value = entry.item.number;
        input.value = entry.text;
        input.classList.remove("is-invalid");
        input.removeAttribute("aria-invalid");
        announce(t("sales.buyerChosen", { label: entry.text }));
      }
    });
    input.addEventListener("input", function () { hidden.value = ""; });
  }

  function initBuyer() {
    var input = $("#buyer-search");
    if (!input || !window.CoulissesContacts) { return; }
    var sheet = $("#buyer-sheet");
    if (sheet) { sheet.setAttribute("data-base", sheet.getAttribute("data-base") || "/admin/contacts/sheet/"); }
    // a search box (Tab never chooses), whose last entry opens the new-contact dialog when allowed
    buyerAc = window.CoulissesContacts.Autocomplete(input, {
      mode: "navigate",
      submitOnEnter: false,  // Enter never submits the sale from the buyer box; it takes the only contact proposed
      soleOnEnter: true,
      chooseOnTab: false,
      onCreate: input.getAttribute("data-create-url") ? openNewContact : null,
      onChoose: function (entry) { setBuyer(entry.item.number, entry.text); }
    });
    input.addEventListener("input", function () {
      if (input.value !== $("#buyer-chosen-label").textContent) {
        $("#buyer").value = "";
        $("#buyer-chosen").hidden = true;
        refreshStructure("");
      }
    });
    var btn = $("#new-contact-btn");
    if (btn) { btn.addEventListener("click", function () { openNewContact(input.value); }); }
  }

  // ------------------------------------------------------------------ quick creation of a contact (dialog)

  var ncForce = false;

  function openNewContact(typed) {
    var modal = $("#new-contact-modal");
    if (!modal || !window.jQuery) { return; }
    var form = $("#new-contact-form");
    typed = (typed || "").trim();
    if (typed && !/^\d+$/.test(typed)) {
      var parts = typed.split(",");
      form.last_name.value = parts[0].replace(/\*/g, "").trim().toUpperCase();
      if (parts[1] && parts[1].trim()) { form.first_name.value = parts[1].trim(); }
    }
    ncForce = false;
    $("#nc-duplicates").classList.add("d-none");
    $("#nc-error").classList.add("d-none");
    $("#nc-submit").textContent = t("sales.createAndChoose");
    // The name field gets the focus once the dialog is shown (at the end of its opening animation,
    // when Bootstrap focuses the dialog itself), unless the operator has already gone into one of the
    // dialog's fields while it opened (a click, Tab): that field keeps the focus, and what is typed goes
    // on into it (the postal code's cities were those of its first digits, the rest in the name: issue 14).
    var reached = null;
    var track = function (e) { if (e.target !== modal && modal.contains(e.target)) { reached = e.target; } };
    modal.addEventListener("focusin", track);
    window.jQuery(modal).one("shown.bs.modal", function () {
      modal.removeEventListener("focusin", track);
      (reached || (form.last_name.value ? form.first_name : form.last_name)).focus();
    });
    window.jQuery(modal).modal("show");
  }

  function ncBody(form) {
    var body = {};
    ["type_code", "civility", "last_name", "first_name", "structure_name", "email", "mobile_phone", "country",
     "postal_code", "city", "line1"].forEach(function (k) {
      var input = form[k];
      if (!input || input.closest("fieldset[disabled]")) { return; }  // the other kind's part of the form
      var v = input.value.trim();
      if (v) { body[k] = k === "country" ? v.toUpperCase() : v; }
    });
    // the chosen type's own fields (the contacts plugin's creation form shows them once it is picked)
    var extra = {};
    $$("[name^='extra.']", form).forEach(function (input) {
      var name = input.name.slice(6);
      if (input.type === "checkbox") { extra[name] = input.checked; return; }
      if (input.value.trim()) { extra[name] = input.value.trim(); }
    });
    if (Object.keys(extra).length) { body.extra = extra; }
    return body;
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (d) { return { status: r.status, data: d }; }, function () { return { status: r.status, data: {} }; }); });
  }

  function ncShowErrors(form, err) {
    $$(".is-invalid", form).forEach(function (el) {
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    $$(".nc-field-error", form).forEach(function (el) { el.remove(); });
    var box = $("#nc-error");
    box.textContent = (err && err.message) || t("sales.createFailed");
    box.classList.remove("d-none");
    var fields = (err && err.fields) || {};
    Object.keys(fields).forEach(function (k) {
      var input = form[k];
      if (!input || !input.classList) { return; }
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
      var div = document.createElement("div");
      div.className = "invalid-feedback nc-field-error";
      div.id = "nc-" + k + "-error";
      div.textContent = fields[k];
      input.setAttribute("aria-describedby", div.id);
      input.parentNode.appendChild(div);
    });
    var first = $("[aria-invalid=true]", form);
    if (first) { first.focus(); }
  }

  // Bootstrap 4 ignores a "hide" asked while the dialog is still opening (its fade): ask again once it
  // is shown, and forget that second request when the first one worked.
  // The focus goes back to the buyer box once the dialog is hidden (however it closes: a contact
  // chosen, ANNULER, Escape): while it is shown, Bootstrap's focus trap pulls the focus back into it.
  function hideNewContact() {
    var m = window.jQuery("#new-contact-modal");
    var again = function () { m.modal("hide"); };
    m.one("shown.bs.modal", again);
    m.one("hidden.bs.modal", function () { m.off("shown.bs.modal", again); });
    m.modal("hide");
  }

  function chooseCreated(number) {
    fetch("/api/v1/contacts?limit=1&q=" + encodeURIComponent(number), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        var item = (d.items || []).filter(function (it) { return String(it.number) === String(number); })[0];
        setBuyer(number, item ? item.label : String(number), true);
        hideNewContact();
      });
  }

  function initNewContact() {
    var form = $("#new-contact-form");
    if (!form) { return; }
    if (window.jQuery) {
      window.jQuery("#new-contact-modal").on("hidden.bs.modal", function () {
        var box = $("#buyer-search");
        if (box) { box.focus(); }
      });
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = ncBody(form);
      var submit = $("#nc-submit");
      submit.disabled = true;
      var done = function () { submit.disabled = false; };
      var create = function () {
        postJson("/api/v1/contacts", body).then(function (res) {
          done();
          if (res.status === 201) { chooseCreated(res.data.number); } else { ncShowErrors(form, res.data.error); }
        }, function () { done(); ncShowErrors(form, null); });
      };
      if (ncForce) { create(); return; }
      postJson("/api/v1/contacts/likely-duplicates", body).then(function (res) {
        var hits = res.status === 200 && Array.isArray(res.data) ? res.data : [];
        if (!hits.length) { create(); return; }
        done();
        var list = $("#nc-duplicate-list");
        list.innerHTML = "";
        hits.forEach(function (hit) {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "list-group-item list-group-item-action py-1 text-monospace small";
          b.textContent = hit.label;
          b.addEventListener("click", function () { setBuyer(hit.number, hit.label, true); hideNewContact(); });
          list.appendChild(b);
        });
        $("#nc-duplicates").classList.remove("d-none");
        ncForce = true;
        submit.textContent = t("sales.createAnyway");
        list.firstChild.focus();
      }, function () { done(); create(); });
    });
  }

  // ------------------------------------------------------------------ performances, category, tariff

  function perfById(id) {
    return (data.performances || []).filter(function (p) { return String(p.id) === String(id); })[0];
  }

  function currentPerf() {
    var checked = $("input[name=performance_choice]:checked");
    return checked ? perfById(checked.value) : null;
  }

  function visibleRows() {
    return $$("#performances tbody tr[data-performance]").filter(function (tr) { return !tr.hidden; });
  }

  function filterPerformances() {
    var terms = fold($("#perf-filter").value).split(/\s+/).filter(Boolean);
    $$("#performances tbody tr[data-performance]").forEach(function (tr) {
      var text = fold(tr.getAttribute("data-search"));
      tr.hidden = !terms.every(function (t) { return text.indexOf(t) >= 0; });
    });
  }

  function choosePerformance(radio, focus) {
    radio.checked = true;
    $$("#performances tbody tr").forEach(function (tr) { tr.classList.toggle("table-active", tr.contains(radio)); });
    onPerformance();
    if (focus) { radio.focus(); }
  }

  function option(value, text, disabled) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    o.disabled = !!disabled;
    return o;
  }

  function inBasket(perfId, catId) {
    return $$("tr.basket-line").reduce(function (n, tr) {
      if (String(tr.getAttribute("data-performance")) === String(perfId)
          && (catId == null || String(tr.getAttribute("data-category")) === String(catId))) {
        n += parseInt(tr.getAttribute("data-quantity"), 10) || 0;
      }
      return n;
    }, 0);
  }

  function onPerformance() {
    var perf = currentPerf();
    var cat = $("#category"), tariff = $("#tariff");
    cat.innerHTML = "";
    tariff.innerHTML = "";
    $("#line-error").textContent = "";
    if (!perf) { cat.disabled = tariff.disabled = true; return; }
    var priced = {};
    perf.prices.forEach(function (p) { priced[p.category] = true; });
    var first = null;
    perf.categories.forEach(function (c) {
      if (!priced[c.id]) { return; }
      var left = c.available - inBasket(perf.id, c.id);
      var count = left > 1 ? t("sales.places", { num: left }) : left === 1 ? t("sales.place", { num: 1 }) : t("sales.full");
      cat.appendChild(option(c.id, c.label + " — " + count, left <= 0));
      if (first === null && left > 0) { first = c.id; }
    });
    if (first !== null) { cat.value = first; }
    cat.disabled = !cat.options.length;
    onCategory();
  }

  function onCategory() {
    var perf = currentPerf();
    var tariff = $("#tariff");
    tariff.innerHTML = "";
    if (!perf) { return; }
    var catId = $("#category").value;
    perf.prices.filter(function (p) { return String(p.category) === String(catId); }).forEach(function (p) {
      var fees = cents(p.fees);
      tariff.appendChild(option(p.tariff, p.label + " — " + money(cents(p.amount)) + (fees ? " + " + t("sales.fees", { amount: money(fees) }) : "")));
    });
    tariff.disabled = !tariff.options.length;
    loadSeats();
  }

  function initPerformances() {
    var filter = $("#perf-filter");
    if (!filter) { return; }
    filter.addEventListener("input", function () {
      filterPerformances();
      announce(t("sales.performancesShown", { num: visibleRows().length }));
    });
    filter.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === "ArrowDown") {
        e.preventDefault();
        var rows = visibleRows();
        if (rows.length) { choosePerformance($("input[type=radio]", rows[0]), true); }
      }
    });
    $$("input[name=performance_choice]").forEach(function (radio) {
      radio.addEventListener("change", function () { choosePerformance(radio, false); });
      radio.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); $("#category").focus(); }
      });
    });
    $$("#performances tbody tr[data-performance]").forEach(function (tr) {
      tr.addEventListener("click", function (e) {
        var radio = $("input[type=radio]", tr);
        if (e.target !== radio) { choosePerformance(radio, true); }
      });
    });
    $("#category").addEventListener("change", onCategory);
    var qty = $("#quantity");
    qty.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); addLine(); } });
    qty.addEventListener("focus", function () { qty.select(); });
    $("#add-line").addEventListener("click", addLine);
    var checked = $("input[name=performance_choice]:checked");  // a refused sale comes back with it
    if (checked) { choosePerformance(checked, false); }
  }

  // ------------------------------------------------------------------ seats (seated venues)

  function basketSeats() {
    var out = {};
    $$("tr.basket-line").forEach(function (tr) {
      (tr.getAttribute("data-seats") || "").split(",").filter(Boolean).forEach(function (s) { out[s] = true; });
    });
    return out;
  }

  function loadSeats() {
    var perf = currentPerf();
    var picker = $("#seat-picker");
    if (!picker) { return; }
    if (!perf || !perf.seated) { picker.hidden = true; $("#seat-map").innerHTML = ""; $("#quantity").readOnly = false; return; }
    picker.hidden = false;
    var render = function (seats) { seatCache[perf.id] = seats; renderSeats(perf, seats); };
    if (seatCache[perf.id]) { render(seatCache[perf.id]); return; }
    fetch("/api/v1/sales/performances/" + perf.id + "/seats", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(render);
  }

  function seatName(s) {
    return s.area_name + " " + s.label;
  }

  function renderSeats(perf, seats) {
    var catId = String($("#category").value);
    var taken = basketSeats();
    var map = $("#seat-map");
    map.innerHTML = "";
    var rows = {};
    var order = [];
    seats.forEach(function (s) {
      var key = t("sales.row", { area: s.area_name, row: s.row || "-" });
      if (!rows[key]) { rows[key] = []; order.push(key); }
      rows[key].push(s);
    });
    order.forEach(function (key) {
      var line = document.createElement("div");
      line.className = "seat-row d-flex flex-wrap align-items-center mb-1";
      var title = document.createElement("span");
      title.className = "seat-row-label small sales-muted mr-2";
      title.textContent = key;
      title.setAttribute("aria-hidden", "true");
      line.appendChild(title);
      rows[key].forEach(function (s) {
        var mine = String(s.category_id) === catId || s.category_id === null;
        var free = s.free && mine && !taken[s.seat_id];
        var state = s.free ? (taken[s.seat_id] ? t("sales.inBasket") : mine ? t("sales.free") : t("sales.otherCategory")) : t("sales.sold");
        var label = document.createElement("label");
        label.className = "seat btn btn-sm mb-0 mr-1 " + (free ? "is-free" : "is-taken");
        label.title = seatName(s) + " (" + state + ")";
        var cb = document.createElement("input");
        cb.type = "checkbox";
        cb.className = "seat-check mr-1";
        cb.value = s.seat_id;
        cb.disabled = !free;
        cb.tabIndex = -1;
        cb.setAttribute("aria-label", seatName(s) + " (" + state + ")");
        cb.setAttribute("data-label", s.area_name + " - " + s.label);
        cb.addEventListener("change", function () {
          label.classList.toggle("active", cb.checked);
          var n = $$(".seat-check:checked").length;
          var qty = $("#quantity");
          qty.readOnly = n > 0;
          if (n > 0) { qty.value = n; }
          announce(t("sales.seatsChosen", { num: n }));
        });
        cb.addEventListener("focus", function () { rovingSeat(cb); });
        label.appendChild(cb);
        label.appendChild(document.createTextNode(s.label));
        line.appendChild(label);
      });
      map.appendChild(line);
    });
    var first = $(".seat-check:not([disabled])", map);
    if (first) { first.tabIndex = 0; }
    $("#quantity").readOnly = false;
  }

  // The seat map is one Tab stop (roving tabindex): the seat that has (or last had) the focus
  function rovingSeat(cb) {
    $$(".seat-check", $("#seat-map")).forEach(function (other) { other.tabIndex = other === cb ? 0 : -1; });
  }

  function seatGrid() {  // the free seats, row by row, with their place in the row
    return $$(".seat-row", $("#seat-map")).map(function (row) {
      return $$(".seat-check", row).map(function (cb, i) { return { cb: cb, i: i }; })
        .filter(function (x) { return !x.cb.disabled; });
    }).filter(function (row) { return row.length; });
  }

  function moveSeat(cb, key) {
    var grid = seatGrid();
    var r = -1, c = -1;
    grid.forEach(function (row, ri) { row.forEach(function (x, ci) { if (x.cb === cb) { r = ri; c = ci; } }); });
    if (r < 0) { return null; }
    var flat = [];
    grid.forEach(function (row) { row.forEach(function (x) { flat.push(x.cb); }); });
    var k = flat.indexOf(cb);
    if (key === "ArrowRight") { return flat[Math.min(k + 1, flat.length - 1)]; }
    if (key === "ArrowLeft") { return flat[Math.max(k - 1, 0)]; }
    if (key === "Home") { return grid[r][0].cb; }
    if (key === "End") { return grid[r][grid[r].length - 1].cb; }
    var target = key === "ArrowDown" ? grid[r + 1] : key === "ArrowUp" ? grid[r - 1] : null;
    if (!target) { return cb; }
    var place = grid[r][c].i;
    var best = target.reduce(function (a, x) { return Math.abs(x.i - place) < Math.abs(a.i - place) ? x : a; });
    return best.cb;
  }

  function initSeatMap() {
    var map = $("#seat-map");
    if (!map) { return; }
    map.addEventListener("keydown", function (e) {
      var cb = e.target;
      if (!cb.classList || !cb.classList.contains("seat-check") || e.altKey || e.ctrlKey || e.metaKey) { return; }
      if (e.key === "Enter") { e.preventDefault(); cb.click(); return; }
      if (["ArrowRight", "ArrowLeft", "ArrowUp", "ArrowDown", "Home", "End"].indexOf(e.key) < 0) { return; }
      e.preventDefault();
      var next = moveSeat(cb, e.key);
      if (next) { rovingSeat(next); next.focus(); }
    });
  }

  // ------------------------------------------------------------------ basket

  function addLine() {
    var perf = currentPerf();
    var error = $("#line-error");
    error.textContent = "";
    if (!perf) { error.textContent = t("sales.choosePerformance"); $("#perf-filter").focus(); return; }
    var catId = $("#category").value, tariffId = $("#tariff").value;
    var qty = parseInt($("#quantity").value, 10);
    if (!catId || !tariffId) { error.textContent = t("sales.chooseCategory"); $("#category").focus(); return; }
    if (!(qty >= 1)) { error.textContent = t("sales.badQuantity"); $("#quantity").focus(); return; }
    var cat = perf.categories.filter(function (c) { return String(c.id) === String(catId); })[0];
    var left = Math.min(cat.available - inBasket(perf.id, catId), perf.available - inBasket(perf.id, null));
    if (qty > left) {
      error.textContent = t("sales.onlyLeft", { num: Math.max(left, 0), category: cat.label });
      $("#quantity").focus();
      return;
    }
    var price = perf.prices.filter(function (p) { return String(p.category) === String(catId) && String(p.tariff) === String(tariffId); })[0];
    var seats = [], seatLabels = [];
    if (perf.seated) {
      var checked = $$(".seat-check:checked");
      if (!checked.length) {  // the best free seats of the category, in the venue's order
        checked = $$(".seat-check").filter(function (cb) { return !cb.disabled; }).slice(0, qty);
        if (checked.length < qty) { error.textContent = t("sales.notEnoughSeats"); $("#quantity").focus(); return; }
      }
      checked.forEach(function (cb) { seats.push(cb.value); seatLabels.push(cb.getAttribute("data-label")); });
      qty = seats.length;
    }
    var unit = cents(price.amount) + cents(price.fees);
    var existing = !seats.length && $$("tr.basket-line").filter(function (tr) {
      return tr.getAttribute("data-performance") === String(perf.id) && tr.getAttribute("data-category") === String(catId)
        && $("input[name$='-tariff']", tr).value === String(tariffId) && !tr.getAttribute("data-seats");
    })[0];
    if (existing) {
      var q = parseInt(existing.getAttribute("data-quantity"), 10) + qty;
      setRow(existing, { quantity: q, amount: unit * q });
      lineLabelled(existing);
    } else {
      var tpl = $("#basket-row-template");
      var html = tpl.innerHTML.replace(/__i__/g, String(lineIndex++));
      var tbody = $("#basket tbody");
      var holder = document.createElement("tbody");
      holder.innerHTML = html;
      var tr = holder.firstElementChild;
      tbody.insertBefore(tr, $("tr.basket-empty", tbody));
      $("input[name$='-performance']", tr).value = perf.id;
      $("input[name$='-category']", tr).value = catId;
      $("input[name$='-tariff']", tr).value = tariffId;
      $("[data-col=performance]", tr).textContent = perf.label;
      $("[data-col=category]", tr).textContent = cat.label;
      $("[data-col=tariff]", tr).textContent = " · " + price.label;
      $("[data-col=price]", tr).textContent = money(cents(price.amount));
      $("[data-col=fees]", tr).textContent = money(cents(price.fees));
      tr.setAttribute("data-performance", perf.id);
      tr.setAttribute("data-category", catId);
      setRow(tr, { quantity: qty, amount: unit * qty, seats: seats, seatLabels: seatLabels });
      lineLabelled(tr);
    }
    $("#quantity").value = 1;
    $("#quantity").readOnly = false;
    afterBasketChange();
    announce(t("sales.lineAdded", { line: qty + " × " + perf.label + " " + cat.label + " " + price.label,
                                    total: money(totalCents()) }));
    var pay = $(".payment-amount");
    (pay || $("#reserve-btn")).focus();
  }

  function lineText(tr) {
    return ["performance", "category", "tariff", "seats"].map(function (col) {
      return $("[data-col=" + col + "]", tr).textContent.replace(/^\s*·\s*/, "").trim();
    }).filter(Boolean).join(" ");
  }

  function lineLabelled(tr) {  // the remove button says which line it removes
    var btn = $(".basket-remove", tr);
    if (btn) { btn.setAttribute("aria-label", t("sales.remove", { line: $("[data-col=quantity]", tr).textContent + " × " + lineText(tr) })); }
  }

  function setRow(tr, v) {
    tr.setAttribute("data-quantity", v.quantity);
    tr.setAttribute("data-amount", (v.amount / 100).toFixed(2));
    $("input[name$='-quantity']", tr).value = v.quantity;
    $("[data-col=quantity]", tr).textContent = v.quantity;
    $("[data-col=amount]", tr).textContent = money(v.amount);
    if (v.seats) {
      tr.setAttribute("data-seats", v.seats.join(","));
      $("input[name$='-seats']", tr).value = v.seats.join(",");
      $("[data-col=seats]", tr).textContent = v.seatLabels.join(", ");
    }
  }

  function afterBasketChange() {
    var lines = $$("tr.basket-line");
    var empty = $("tr.basket-empty");
    if (empty) { empty.hidden = lines.length > 0; }
    $("#basket-total").textContent = money(totalCents());
    refreshDue();
    if (currentPerf()) {  // availability left in the selects and the seat map
      var cat = $("#category").value, tariff = $("#tariff").value;
      onPerformance();
      if (cat && $("#category option[value='" + cat + "']:not([disabled])")) { $("#category").value = cat; onCategory(); }
      if (tariff && $("#tariff option[value='" + tariff + "']")) { $("#tariff").value = tariff; }
    }
  }

  function initBasket() {
    var basket = $("#basket");
    if (!basket) { return; }
    lineIndex = $$("tr.basket-line", basket).length;
    basket.addEventListener("click", function (e) {
      var btn = e.target.closest(".basket-remove");
      if (!btn) { return; }
      var tr = btn.closest("tr");
      var rows = $$("tr.basket-line", basket);
      var at = rows.indexOf(tr);
      var text = lineText(tr);
      tr.remove();
      afterBasketChange();
      announce(t("sales.lineRemoved", { line: text, total: money(totalCents()) }));
      // the focus stays in the basket (the next line's button, else the previous one), else the performances
      var left = $$("tr.basket-line .basket-remove", basket);
      var next = left[Math.min(at, left.length - 1)];
      (next || $("#perf-filter") || $("#buyer-search")).focus();
    });
    // a workstation's scan took an order up into this basket (plugins/devices/static/devices/live.js
    // redrew the basket's orders): what they owe joins the total and the rest due
    document.addEventListener("coulisses:live-refreshed", function () {
      var work = $("[data-live-region=sell-work]");
      if (!work) { return; }
      basket.setAttribute("data-due", work.getAttribute("data-basket-due") || "0");
      afterBasketChange();
    });
  }

  // ------------------------------------------------------------------ form and keyboard

  function initForm() {
    var form = $("#sell-form");
    if (!form) { return; }
    var sent = false;
    form.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.defaultPrevented) { return; }
      var t = e.target;
      // a scanner typing a barcode and Enter (keyboard wedge) in "Code-barres": its order is taken up
      if (t.id === "sell-scan") { e.preventDefault(); if (t.value.trim()) { $("#scan-btn").click(); } return; }
      if (t.tagName === "INPUT" && t.type !== "submit" && t.type !== "button") { e.preventDefault(); }
    });
    form.addEventListener("submit", function (e) {
      if (sent) { e.preventDefault(); return; }
      sent = true;
      setTimeout(function () { sent = false; }, 5000);
    });
  }

  function shortcuts(e) {
    if (!e.altKey || e.ctrlKey || e.metaKey) { return; }
    var click = function (sel) { var el = $(sel); if (el) { e.preventDefault(); el.click(); } };
    var focus = function (sel) { var el = $(sel); if (el) { e.preventDefault(); el.focus(); if (el.select) { el.select(); } } };
    switch (e.code) {
      case "KeyR": click("#reserve-btn"); break;
      case "KeyP": click("#pay-btn"); break;
      case "KeyT": click("#hold-btn"); break;
      case "KeyA": if ($("#add-line")) { e.preventDefault(); addLine(); } break;
      case "KeyC": focus("#buyer-search"); break;
      case "KeyB": focus("#sell-scan"); break;
      case "KeyL": focus("#perf-filter"); break;
      case "KeyN": if ($("#new-contact-modal")) { e.preventDefault(); openNewContact($("#buyer-search").value); } break;
      case "KeyS": if ($(".payment-amount")) { e.preventDefault(); restShortcut(); } break;
      default: break;
    }
  }

  function initSelectAll() {
    var all = $("#tickets-all");
    if (!all) { return; }
    all.addEventListener("change", function () {
      $$("input[name=tickets]").forEach(function (cb) { cb.checked = all.checked; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var blob = $("#sales-data");
    data = blob ? JSON.parse(blob.textContent) : { performances: [], modes: [] };
    currency = data.currency || "EUR";
    initBuyer();
    initPayer();
    initNewContact();
    initPerformances();
    initSeatMap();
    initBasket();
    initPayments();
    initForm();
    initSelectAll();
    document.addEventListener("keydown", shortcuts);
    var invalid = $(".sales-screen [aria-invalid=true]");
    var landing = $("[data-focus-on-load]");
    var buyer = $("#buyer-search");
    if (invalid) { invalid.focus(); } else if (landing) { landing.focus(); } else if (buyer && !$("#buyer").value) { buyer.focus(); }
  });

  window.CoulissesSales = { cents: cents, money: money };
})();
