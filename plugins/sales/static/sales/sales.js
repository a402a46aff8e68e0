/* Coulisses — sales screens: the box-office sales screen ("Vente - réservation") and the payment rows
 * of the order detail. Plain JavaScript, no build step; amounts are counted in cents.
 *
 * The buyer box reuses the contacts plugin's quick-search autocomplete (window.CoulissesContacts);
 * a new contact is created in a dialog through POST /api/v1/contacts (session cookie + X-CSRFToken).
 * Keyboard: Alt+C contact, Alt+N new contact, Alt+L performances, Alt+A add, Alt+S rest in the
 * current payment, Alt+R reserve, Alt+P pay; Enter chooses / adds, never submits by accident.
 */
(function () {
  "use strict";

  var data = null;
  var currency = "EUR";
  var lineIndex = 0;
  var seatCache = {};

  // ------------------------------------------------------------------ money

  function cents(text) {
    var raw = String(text || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (!raw) { return 0; }
    if (!/^\d+(\.\d{0,2})?$/.test(raw)) { return NaN; }
    var parts = raw.split(".");
    return parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
  }

  function money(c) {
    return new Intl.NumberFormat("fr-FR", { style: "currency", currency: currency }).format(c / 100);
  }

  function plain(c) {  // what an operator would type: "120,00"
    return (c / 100).toFixed(2).replace(".", ",");
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
      return $$("tr.basket-line", basket).reduce(function (sum, tr) { return sum + cents(tr.getAttribute("data-amount")); }, 0);
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
    rest.classList.remove("text-danger", "text-warning", "text-success");
    if (st.rest > 0) {
      label.textContent = "Reste dû";
      rest.textContent = money(st.rest);
    } else if (st.rest === 0) {
      label.textContent = "Reste dû";
      rest.textContent = money(0);
      if (st.total > 0) { rest.classList.add("text-success"); }
    } else if (st.change) {
      label.textContent = "Monnaie à rendre";
      rest.textContent = money(-st.rest);
      rest.classList.add("text-warning");
    } else {
      label.textContent = "Trop perçu (refusé)";
      rest.textContent = money(-st.rest);
      rest.classList.add("text-danger");
    }
  }

  function fillRest(input) {
    if (!input) { return; }
    var st = paymentState();
    var current = cents(input.value);
    var value = Math.max(0, st.rest + (isNaN(current) ? 0 : current));
    input.value = value ? plain(value) : "";
    refreshDue();
    input.focus();
    input.select();
  }

  function initPayments() {
    $$(".payment-amount").forEach(function (input) {
      input.addEventListener("input", refreshDue);
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

  function setBuyer(number, label) {
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
      .then(function (d) { if (d && cents(d.balance) > 0) { credit.textContent = "Solde avoir : " + money(cents(d.balance)); } })
      .catch(function () {});
    refreshStructure(number);
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

  // "Payeur": optional, another contact who pays (the contacts quick-search autocomplete)
  function initPayer() {
    var input = $("#payer-search");
    if (!input || !window.CoulissesContacts) { return; }
    var hidden = $("#payer");
    var ac = new window.CoulissesContacts.Autocomplete(input);
    ac.choose = function (i) {
      var entry = this.items[i];
      if (!entry || entry.kind !== "contact") { return; }
      this.close();
      hidden.value = entry.item.number;
      input.value = entry.text;
      input.classList.remove("is-invalid");
    };
    input.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.defaultPrevented) { return; }
      e.preventDefault();  // Enter never submits the sale from the payer box
      var found = ac.items.filter(function (x) { return x.kind === "contact"; });
      if (ac.isOpen() && found.length === 1) { ac.choose(0); }
    });
    input.addEventListener("input", function () { hidden.value = ""; });
  }

  function initBuyer() {
    var input = $("#buyer-search");
    if (!input || !window.CoulissesContacts) { return; }
    var sheet = $("#buyer-sheet");
    if (sheet) { sheet.setAttribute("data-base", sheet.getAttribute("data-base") || "/admin/contacts/sheet/"); }
    input.setAttribute("data-autocomplete", "buyer");
    var ac = new window.CoulissesContacts.Autocomplete(input);
    ac.mode = "navigate";  // offers "Créer un nouveau contact…" last (when data-create-url is set)
    ac.choose = function (i) {
      var entry = this.items[i];
      if (!entry) { return; }
      this.close();
      if (entry.kind === "create") { openNewContact(input.value); return; }
      setBuyer(entry.item.number, entry.text);
    };
    input.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.defaultPrevented) { return; }
      e.preventDefault();  // Enter never submits the sale from the buyer box
      var found = ac.items.filter(function (x) { return x.kind === "contact"; });
      if (ac.isOpen() && found.length === 1) { ac.choose(0); }
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
    $("#nc-submit").textContent = "CRÉER ET CHOISIR";
    window.jQuery(modal).one("shown.bs.modal", function () { (form.last_name.value ? form.first_name : form.last_name).focus(); });
    window.jQuery(modal).modal("show");
  }

  function ncBody(form) {
    var body = {};
    ["civility", "last_name", "first_name", "email", "mobile_phone", "country", "postal_code", "city", "line1"].forEach(function (k) {
      var v = form[k].value.trim();
      if (v) { body[k] = k === "country" ? v.toUpperCase() : v; }
    });
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
    $$(".is-invalid", form).forEach(function (el) { el.classList.remove("is-invalid"); });
    $$(".nc-field-error", form).forEach(function (el) { el.remove(); });
    var box = $("#nc-error");
    box.textContent = (err && err.message) || "La création a échoué.";
    box.classList.remove("d-none");
    var fields = (err && err.fields) || {};
    Object.keys(fields).forEach(function (k) {
      var input = form[k];
      if (!input || !input.classList) { return; }
      input.classList.add("is-invalid");
      var div = document.createElement("div");
      div.className = "invalid-feedback nc-field-error";
      div.textContent = fields[k];
      input.parentNode.appendChild(div);
    });
  }

  // Bootstrap 4 ignores a "hide" asked while the dialog is still opening (its fade): ask again once it
  // is shown, and forget that second request when the first one worked.
  // Focus moves to the performances only once the dialog is hidden: while it is shown, Bootstrap's
  // focus trap pulls the focus back into it.
  function hideNewContact() {
    var m = window.jQuery("#new-contact-modal");
    var again = function () { m.modal("hide"); };
    m.one("shown.bs.modal", again);
    m.one("hidden.bs.modal", function () {
      m.off("shown.bs.modal", again);
      var filter = $("#perf-filter");
      if (filter) { filter.focus(); }
    });
    m.modal("hide");
  }

  function chooseCreated(number) {
    fetch("/api/v1/contacts?limit=1&q=" + encodeURIComponent(number), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        var item = (d.items || []).filter(function (it) { return String(it.number) === String(number); })[0];
        setBuyer(number, item ? item.label : String(number));
        hideNewContact();
      });
  }

  function initNewContact() {
    var form = $("#new-contact-form");
    if (!form) { return; }
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
          b.addEventListener("click", function () { setBuyer(hit.number, hit.label); hideNewContact(); });
          list.appendChild(b);
        });
        $("#nc-duplicates").classList.remove("d-none");
        ncForce = true;
        submit.textContent = "CRÉER QUAND MÊME";
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
      cat.appendChild(option(c.id, c.label + " — " + (left > 0 ? left + " place" + (left > 1 ? "s" : "") : "complet"), left <= 0));
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
      tariff.appendChild(option(p.tariff, p.label + " — " + money(cents(p.amount)) + (fees ? " + " + money(fees) + " frais" : "")));
    });
    tariff.disabled = !tariff.options.length;
    loadSeats();
  }

  function initPerformances() {
    var filter = $("#perf-filter");
    if (!filter) { return; }
    filter.addEventListener("input", filterPerformances);
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

  function renderSeats(perf, seats) {
    var catId = String($("#category").value);
    var taken = basketSeats();
    var map = $("#seat-map");
    map.innerHTML = "";
    var rows = {};
    var order = [];
    seats.forEach(function (s) {
      var key = s.area_name + " — rang " + (s.row || "-");
      if (!rows[key]) { rows[key] = []; order.push(key); }
      rows[key].push(s);
    });
    order.forEach(function (key) {
      var line = document.createElement("div");
      line.className = "seat-row d-flex flex-wrap align-items-center mb-1";
      var title = document.createElement("span");
      title.className = "seat-row-label small text-muted mr-2";
      title.textContent = key;
      line.appendChild(title);
      rows[key].forEach(function (s) {
        var mine = String(s.category_id) === catId || s.category_id === null;
        var free = s.free && mine && !taken[s.seat_id];
        var label = document.createElement("label");
        label.className = "seat btn btn-sm mb-0 mr-1 " + (free ? "btn-outline-success" : "btn-light disabled");
        label.title = s.area_name + " " + s.label + (s.free ? (taken[s.seat_id] ? " (dans le panier)" : mine ? "" : " (autre catégorie)") : " (vendue)");
        var cb = document.createElement("input");
        cb.type = "checkbox";
        cb.className = "seat-check mr-1";
        cb.value = s.seat_id;
        cb.disabled = !free;
        cb.setAttribute("data-label", s.area_name + " - " + s.label);
        cb.addEventListener("change", function () {
          label.classList.toggle("active", cb.checked);
          var n = $$(".seat-check:checked").length;
          var qty = $("#quantity");
          qty.readOnly = n > 0;
          if (n > 0) { qty.value = n; }
        });
        label.appendChild(cb);
        label.appendChild(document.createTextNode(s.label));
        line.appendChild(label);
      });
      map.appendChild(line);
    });
    $("#quantity").readOnly = false;
  }

  // ------------------------------------------------------------------ basket

  function addLine() {
    var perf = currentPerf();
    var error = $("#line-error");
    error.textContent = "";
    if (!perf) { error.textContent = "Choisissez d'abord une séance."; $("#perf-filter").focus(); return; }
    var catId = $("#category").value, tariffId = $("#tariff").value;
    var qty = parseInt($("#quantity").value, 10);
    if (!catId || !tariffId) { error.textContent = "Choisissez une catégorie et un tarif."; return; }
    if (!(qty >= 1)) { error.textContent = "La quantité est un nombre entier positif."; $("#quantity").focus(); return; }
    var cat = perf.categories.filter(function (c) { return String(c.id) === String(catId); })[0];
    var left = Math.min(cat.available - inBasket(perf.id, catId), perf.available - inBasket(perf.id, null));
    if (qty > left) {
      error.textContent = "Plus que " + Math.max(left, 0) + " place(s) en " + cat.label + " pour cette séance.";
      $("#quantity").focus();
      return;
    }
    var price = perf.prices.filter(function (p) { return String(p.category) === String(catId) && String(p.tariff) === String(tariffId); })[0];
    var seats = [], seatLabels = [];
    if (perf.seated) {
      var checked = $$(".seat-check:checked");
      if (!checked.length) {  // the best free seats of the category, in the venue's order
        checked = $$(".seat-check").filter(function (cb) { return !cb.disabled; }).slice(0, qty);
        if (checked.length < qty) { error.textContent = "Pas assez de places libres dans cette catégorie."; return; }
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
    }
    $("#quantity").value = 1;
    $("#quantity").readOnly = false;
    afterBasketChange();
    var pay = $(".payment-amount");
    (pay || $("#reserve-btn")).focus();
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
      btn.closest("tr").remove();
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
      case "KeyA": if ($("#add-line")) { e.preventDefault(); addLine(); } break;
      case "KeyC": focus("#buyer-search"); break;
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
    initBasket();
    initPayments();
    initForm();
    initSelectAll();
    document.addEventListener("keydown", shortcuts);
    var buyer = $("#buyer-search");
    if (buyer && !$("#buyer").value) { buyer.focus(); }
  });

  window.CoulissesSales = { cents: cents, money: money };
})();
