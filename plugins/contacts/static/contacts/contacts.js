/* Coulisses — contacts screens: the quick-search autocomplete and a few form helpers.
 * Plain JavaScript, no build step. The autocomplete calls GET /api/v1/contacts with the session cookie.
 *
 * <input data-autocomplete="navigate" data-sheet-url=".../sheet/" data-create-url=".../new/">
 *     the quick search box: an entry opens the sheet, the last entry creates a new contact;
 * <input data-autocomplete="structure" data-target="#hidden">  choose a structure (its number goes to #hidden);
 * <input data-autocomplete="number">  choose any contact: its number replaces what was typed.
 */
(function () {
  "use strict";

  var API = "/api/v1/contacts";
  var MIN_CHARS = 2;
  var counter = 0;

  function debounce(fn, ms) {
    var t = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function Autocomplete(input) {
    this.input = input;
    this.mode = input.getAttribute("data-autocomplete");
    this.items = [];
    this.active = -1;
    this.seq = 0;
    this.id = "contacts-ac-" + (++counter);
    this.list = document.createElement("div");
    this.list.className = "list-group contacts-ac shadow-sm d-none";
    this.list.id = this.id;
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("data-testid", "autocomplete");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", this.id);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");
    var host = input.closest(".position-relative") || input.parentNode;
    host.appendChild(this.list);
    if (this.mode === "structure") {
      this.target = document.querySelector(input.getAttribute("data-target"));
    }
    var self = this;
    input.addEventListener("input", debounce(function () { self.fetch(); }, 150));
    input.addEventListener("input", function () { if (self.target) { self.target.value = ""; } });
    input.addEventListener("keydown", function (e) { self.onKey(e); });
    input.addEventListener("blur", function () { setTimeout(function () { self.close(); }, 150); });
    input.addEventListener("focus", function () { if (self.items.length && input.value.trim().length >= MIN_CHARS) { self.open(); } });
  }

  Autocomplete.prototype.url = function (q) {
    var params = new URLSearchParams();
    params.set("q", q);
    params.set("limit", "15");
    if (this.mode === "structure") { params.set("nature", "structure"); }
    return API + "?" + params.toString();
  };

  Autocomplete.prototype.fetch = function () {
    var q = this.input.value.trim();
    var self = this;
    if (q.length < MIN_CHARS) { this.items = []; this.close(); return; }
    var seq = ++this.seq;
    fetch(this.url(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) {
        if (seq !== self.seq) { return; }  // an older answer arriving late
        self.render(q, data.items || []);
      })
      .catch(function () { self.render(q, []); });
  };

  Autocomplete.prototype.labelOf = function (item) {
    if (item.label) { return item.label; }
    // advanced-mode items (structures) carry no label: build one in the same format
    return item.name + " | " + (item.city || "-") + " [" + item.number + "]";
  };

  Autocomplete.prototype.render = function (q, items) {
    var self = this;
    this.items = items.map(function (it) { return { kind: "contact", item: it, text: self.labelOf(it) }; });
    var createUrl = this.input.getAttribute("data-create-url");
    if (this.mode === "navigate" && createUrl) {
      this.items.push({ kind: "create", text: "Créer un nouveau contact…" });
    }
    this.list.innerHTML = "";
    if (!this.items.length) { this.close(); return; }
    if (!items.length) {
      var none = document.createElement("div");
      none.className = "list-group-item small text-muted py-1";
      none.textContent = "Aucun contact trouvé";
      this.list.appendChild(none);
    }
    this.items.forEach(function (entry, i) {
      var a = document.createElement("a");
      a.href = "#";
      a.id = self.id + "-" + i;
      a.setAttribute("role", "option");
      a.className = "list-group-item list-group-item-action py-1" + (entry.kind === "create" ? " ac-create" : "");
      a.textContent = entry.text;
      if (entry.kind === "contact") {
        a.setAttribute("data-number", entry.item.number);
        if (entry.item.valid === false) { a.className += " text-muted"; }
      }
      a.addEventListener("mousedown", function (e) { e.preventDefault(); self.choose(i); });
      self.list.appendChild(a);
    });
    this.active = -1;
    this.open();
  };

  Autocomplete.prototype.open = function () {
    this.list.classList.remove("d-none");
    this.input.setAttribute("aria-expanded", "true");
  };

  Autocomplete.prototype.close = function () {
    this.list.classList.add("d-none");
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  };

  Autocomplete.prototype.isOpen = function () { return !this.list.classList.contains("d-none"); };

  Autocomplete.prototype.highlight = function (i) {
    var options = this.list.querySelectorAll("[role=option]");
    if (!options.length) { return; }
    this.active = (i + options.length) % options.length;
    for (var k = 0; k < options.length; k++) {
      options[k].classList.toggle("active", k === this.active);
      options[k].setAttribute("aria-selected", k === this.active ? "true" : "false");
    }
    this.input.setAttribute("aria-activedescendant", options[this.active].id);
    options[this.active].scrollIntoView({ block: "nearest" });
  };

  Autocomplete.prototype.onKey = function (e) {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (!this.isOpen() && this.items.length) { this.open(); }
      this.highlight(this.active + 1);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (!this.isOpen() && this.items.length) { this.open(); }
      this.highlight(this.active <= 0 ? this.items.length - 1 : this.active - 1);
    } else if (e.key === "Enter") {
      if (this.isOpen() && this.active >= 0) {
        e.preventDefault();
        this.choose(this.active);
      } else if (this.mode !== "navigate") {
        e.preventDefault();  // Enter in a chooser never submits the whole form by accident
      }
    } else if (e.key === "Escape") {
      if (this.isOpen()) { e.preventDefault(); this.close(); }
    }
  };

  Autocomplete.prototype.choose = function (i) {
    var entry = this.items[i];
    if (!entry) { return; }
    this.close();
    if (entry.kind === "create") {
      var url = this.input.getAttribute("data-create-url");
      window.location.href = url + "?name=" + encodeURIComponent(this.input.value.trim());
      return;
    }
    var number = entry.item.number;
    if (this.mode === "navigate") {
      window.location.href = this.input.getAttribute("data-sheet-url").replace(/\/?$/, "/") + number + "/";
    } else if (this.mode === "structure") {
      this.input.value = entry.text;
      if (this.target) { this.target.value = number; }
    } else {
      this.input.value = number;
    }
    this.input.dispatchEvent(new CustomEvent("contacts:chosen", { detail: entry.item }));
  };

  function toggleAdvanced() {
    var btn = document.getElementById("advanced-toggle");
    var panel = document.getElementById("advanced-search");
    var flag = document.getElementById("adv-flag");
    if (!btn || !panel) { return; }
    btn.addEventListener("click", function () {
      var hidden = panel.classList.toggle("d-none");
      btn.textContent = hidden ? "Avancé >>>" : "Avancé <<<";
      btn.setAttribute("aria-expanded", hidden ? "false" : "true");
      if (flag) { flag.value = hidden ? "" : "1"; }
    });
  }

  function checkAll() {
    var all = document.getElementById("check-all");
    if (!all) { return; }
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=numbers]").forEach(function (cb) { cb.checked = all.checked; });
    });
  }

  function structureChooser() {
    var existing = document.getElementById("structure-existing");
    var created = document.getElementById("structure-new");
    var toNew = document.getElementById("new-structure-btn");
    var toExisting = document.getElementById("existing-structure-btn");
    if (!existing || !created) { return; }
    if (toNew) {
      toNew.addEventListener("click", function () {
        existing.classList.add("d-none");
        created.classList.remove("d-none");
        document.getElementById("f-structure_number").value = "";
        document.getElementById("f-structure").value = "";
        document.getElementById("f-new_structure_name").focus();
      });
    }
    if (toExisting) {
      toExisting.addEventListener("click", function () {
        created.classList.add("d-none");
        existing.classList.remove("d-none");
        document.getElementById("f-new_structure_name").value = "";
        document.getElementById("f-structure").focus();
      });
    }
  }

  // Département / Région: the ISO 3166-2:FR lists for France, free text for other countries.
  function subdivisions() {
    document.querySelectorAll('select[name="country"]').forEach(function (country) {
      var form = country.form;
      if (!form || !form.querySelector("[data-subdivision]")) { return; }
      country.addEventListener("change", function () {
        var fr = country.value === "FR";
        form.querySelectorAll("[data-subdivision]").forEach(function (el) {
          var show = (el.getAttribute("data-subdivision") === "fr") === fr;
          el.disabled = !show;
          el.classList.toggle("d-none", !show);
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    subdivisions();
    document.querySelectorAll("input[data-autocomplete]").forEach(function (input) { new Autocomplete(input); });
    toggleAdvanced();
    checkAll();
    structureChooser();
    var quick = document.getElementById("quick-search");
    if (quick && !quick.value) { quick.focus(); }
  });

  window.CoulissesContacts = { Autocomplete: Autocomplete };
})();
