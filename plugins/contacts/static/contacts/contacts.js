/* Coulisses — contacts screens: the quick-search autocomplete and a few form helpers.
 * Plain JavaScript, no build step. The autocomplete calls GET /api/v1/contacts with the session cookie.
 *
 * <input data-autocomplete="navigate" data-sheet-url=".../sheet/" data-create-url=".../new/">
 *     the quick search box: an entry opens the sheet, the last entry creates a new contact;
 * <input data-autocomplete="structure" data-target="#hidden">  choose a structure (its number goes to #hidden);
 * <input data-autocomplete="number">  choose any contact: its number replaces what was typed;
 * <input data-autocomplete="postal" name="postal_code">  a French postal code proposes its cities
 *     (GET /api/v1/contacts/postal-codes); choosing one fills the code and the form's [name=city].
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

  function t(key, values) {
    var C = window.Coulisses;
    if (!C || !C.t) { return key; }
    return values ? C.format(C.t(key), values) : C.t(key);
  }

  /* What a screen reader says without moving the focus (the host's polite live region). */
  function announce(text) {
    var region = document.getElementById("coulisses-announce") || document.getElementById("contacts-announce");
    if (!region) {
      region = document.createElement("div");
      region.id = "contacts-announce";
      region.className = "sr-only";
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 50);
  }

  /* The ARIA combobox pattern (WAI-ARIA APG, "list autocomplete"): the focus stays in the box; the
   * list is announced; ArrowDown/ArrowUp move the highlighted option (aria-activedescendant); Enter
   * chooses it; Escape closes the list; Tab closes it and goes on to the next field, choosing the
   * highlighted option first in a chooser (never in the quick search box, where choosing opens a page).
   * The options are not focusable: the focus is never lost in the list. */
  function Autocomplete(input) {
    this.input = input;
    this.mode = input.getAttribute("data-autocomplete");
    this.items = [];
    this.active = -1;
    this.seq = 0;
    this.id = "contacts-ac-" + (++counter);
    this.list = document.createElement("ul");
    this.list.className = "list-group contacts-ac shadow-sm d-none";
    this.list.id = this.id;
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("data-testid", "autocomplete");
    var name = input.getAttribute("aria-label") || (input.labels && input.labels[0] && input.labels[0].textContent) || "";
    if (name) { this.list.setAttribute("aria-label", name.trim()); }
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
    input.addEventListener("blur", function () { setTimeout(function () { if (document.activeElement !== input) { self.close(); } }, 150); });
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
        self.render(q, data.items || [], !!data.has_more);
      })
      .catch(function () { self.render(q, []); });
  };

  Autocomplete.prototype.labelOf = function (item) {
    if (item.label) { return item.label; }
    // advanced-mode items (structures) carry no label: build one in the same format
    return item.name + " | " + (item.city || "-") + " [" + item.number + "]";
  };

  Autocomplete.prototype.render = function (q, items, hasMore) {
    var self = this;
    this.items = items.map(function (it) { return { kind: "contact", item: it, text: self.labelOf(it) }; });
    var createUrl = this.input.getAttribute("data-create-url");
    if (this.mode === "navigate" && createUrl) {
      this.items.push({ kind: "create", text: t("contacts_ac_create") });
    }
    this.list.innerHTML = "";
    if (!this.items.length) { this.close(); announce(t("contacts_ac_none")); return; }
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "list-group-item small text-muted py-1";
      none.setAttribute("role", "option");
      none.setAttribute("aria-disabled", "true");
      none.textContent = t("contacts_ac_none");
      this.list.appendChild(none);
    }
    this.items.forEach(function (entry, i) {
      var li = document.createElement("li");
      li.id = self.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-index", String(i));
      li.className = "list-group-item list-group-item-action py-1" + (entry.kind === "create" ? " ac-create" : "");
      li.textContent = entry.text;
      if (entry.kind === "contact") {
        li.setAttribute("data-number", entry.item.number);
        if (entry.item.valid === false) { li.className += " text-muted"; }
      }
      li.addEventListener("mousedown", function (e) { e.preventDefault(); self.choose(i); });
      self.list.appendChild(li);
    });
    if (hasMore) {
      // more matches than shown: say so (not selectable, not counted among the options)
      var more = document.createElement("li");
      more.className = "list-group-item small text-muted py-1";
      more.setAttribute("role", "option");
      more.setAttribute("aria-disabled", "true");
      more.setAttribute("data-testid", "autocomplete-more");
      more.textContent = t("contacts_ac_more");
      this.list.insertBefore(more, this.list.querySelector(".ac-create"));  // before "Créer…", else last
    }
    this.active = -1;
    this.open();
    announce((items.length === 1 ? t("contacts_ac_one") : (items.length ? t("contacts_ac_many", { num: items.length })
                                                                        : t("contacts_ac_none")))
             + (hasMore ? " " + t("contacts_ac_more") : ""));
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

  Autocomplete.prototype.options = function () { return this.list.querySelectorAll("[role=option][data-index]"); };

  Autocomplete.prototype.highlight = function (i) {
    var options = this.options();
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
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
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
      if (this.isOpen()) { e.preventDefault(); e.stopPropagation(); this.close(); }
    } else if (e.key === "Tab") {
      // the focus goes on to the next field (never into the list); a chooser keeps the highlighted contact
      var entry = this.isOpen() && this.active >= 0 ? this.items[this.active] : null;
      if (entry && entry.kind !== "create" && this.mode !== "navigate") { this.choose(this.active); }
      this.close();
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
      announce(t("contacts_ac_chosen", { label: entry.text }));
    } else {
      this.input.value = number;
      announce(t("contacts_ac_chosen", { label: entry.text }));
    }
    this.input.dispatchEvent(new CustomEvent("contacts:chosen", { detail: entry.item }));
  };

  /* The contact sheet's tabs (WAI-ARIA APG "tabs", manual activation): one Tab stop for the tab list
   * (roving tabindex); ArrowLeft/ArrowRight, Home and End move the focus between tabs; Enter or Space
   * opens the focused tab (a page of its own: the address ends with #tab-<code>, so the focus comes
   * back to the chosen tab when it is shown). */
  function sheetTabs() {
    var list = document.querySelector("[role=tablist][data-testid=sheet-tabs]");
    if (!list) { return; }
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    function focusTab(i) {
      var next = tabs[(i + tabs.length) % tabs.length];
      tabs.forEach(function (tab) { tab.setAttribute("tabindex", tab === next ? "0" : "-1"); });
      next.focus();
    }
    list.addEventListener("keydown", function (e) {
      var i = tabs.indexOf(document.activeElement);
      if (i < 0 || e.altKey || e.ctrlKey || e.metaKey) { return; }
      if (e.key === "ArrowRight") { e.preventDefault(); focusTab(i + 1); }
      else if (e.key === "ArrowLeft") { e.preventDefault(); focusTab(i - 1); }
      else if (e.key === "Home") { e.preventDefault(); focusTab(0); }
      else if (e.key === "End") { e.preventDefault(); focusTab(tabs.length - 1); }
      else if (e.key === " " || e.key === "Spacebar") { e.preventDefault(); tabs[i].click(); }
    });
    var hash = window.location.hash.replace(/^#/, "");
    var wanted = hash ? document.getElementById(hash) : null;
    if (wanted && tabs.indexOf(wanted) >= 0) { wanted.focus(); return true; }
    return false;
  }

  /* Where the focus goes when a contacts page opens: the first field in error, else the results of a
   * search, else the quick search box. */
  function initialFocus(tabFocused) {
    if (tabFocused) { return; }
    var invalid = document.querySelector(".contacts-screen [aria-invalid=true]:not([disabled])");
    if (invalid) { invalid.focus(); return; }
    var results = document.querySelector("#results-heading[data-searched]");
    if (results) { results.focus(); return; }
    var quick = document.getElementById("quick-search");
    if (quick && !quick.value) { quick.focus(); }
  }

  function toggleAdvanced() {
    var btn = document.getElementById("advanced-toggle");
    var panel = document.getElementById("advanced-search");
    var flag = document.getElementById("adv-flag");
    if (!btn || !panel) { return; }
    btn.addEventListener("click", function () {
      var hidden = panel.classList.toggle("d-none");
      btn.textContent = hidden ? t("advanced_closed") : t("advanced_open");
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

  // The creation form: the contact type chosen up front shows its own fields at once (from the
  // page's <template data-type-fields>), and the individual's or the structure's part of the form.
  function contactTypeChooser() {
    document.querySelectorAll("select[data-contact-type]").forEach(function (select) {
      var form = select.form;
      var target = form && form.querySelector("[data-type-fields-target]");
      if (!target) { return; }
      var shown = select.value;
      select.addEventListener("change", function () {
        var option = select.options[select.selectedIndex];
        var kind = option ? option.getAttribute("data-kind") : "individual";
        form.querySelectorAll("[data-kind-only]").forEach(function (part) {
          var on = part.getAttribute("data-kind-only") === kind;
          part.hidden = !on;
          part.disabled = !on;
        });
        if (select.value === shown) { return; }
        shown = select.value;
        target.innerHTML = "";
        var template = form.querySelector('template[data-type-fields="' + select.value + '"]');
        if (template) { target.appendChild(template.content.cloneNode(true)); }
      });
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

  /* The postal code box: the same combobox, whose options are the cities of the postal code typed
   * (France only: for another country chosen in the form's [name=country], nothing is proposed).
   * Choosing a city fills the postal code and the form's [name=city]; the focus stays in the box. */
  function PostalAutocomplete(input) {
    Autocomplete.call(this, input);
    this.form = input.form || input.closest("form") || document;
  }
  PostalAutocomplete.prototype = Object.create(Autocomplete.prototype);
  PostalAutocomplete.prototype.constructor = PostalAutocomplete;
  PostalAutocomplete.COUNTRIES = ["FR", "GP", "MQ", "GF", "RE", "YT"];

  PostalAutocomplete.prototype.country = function () {
    var select = this.form.querySelector("[name=country]");
    return select && select.value ? select.value.toUpperCase() : "FR";
  };

  PostalAutocomplete.prototype.url = function (q) {
    var params = new URLSearchParams();
    params.set("q", q);
    params.set("country", this.country());
    params.set("limit", "15");
    return API + "/postal-codes?" + params.toString();
  };

  PostalAutocomplete.prototype.fetch = function () {
    var q = this.input.value.replace(/\s+/g, "");
    if (PostalAutocomplete.COUNTRIES.indexOf(this.country()) < 0 || !/^\d{2,5}$/.test(q)) {
      this.seq++; this.items = []; this.close(); return;
    }
    Autocomplete.prototype.fetch.call(this);
  };

  PostalAutocomplete.prototype.render = function (q, items, hasMore) {
    var self = this;
    this.items = items.map(function (it) { return { kind: "city", item: it, text: it.label }; });
    this.list.innerHTML = "";
    if (!this.items.length) { this.close(); announce(t("contacts_pc_none")); return; }
    this.items.forEach(function (entry, i) {
      var li = document.createElement("li");
      li.id = self.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-index", String(i));
      li.className = "list-group-item list-group-item-action py-1";
      li.textContent = entry.text;
      li.addEventListener("mousedown", function (e) { e.preventDefault(); self.choose(i); });
      self.list.appendChild(li);
    });
    if (hasMore) {
      var more = document.createElement("li");
      more.className = "list-group-item small text-muted py-1";
      more.setAttribute("role", "option");
      more.setAttribute("aria-disabled", "true");
      more.setAttribute("data-testid", "autocomplete-more");
      more.textContent = t("contacts_pc_more");
      this.list.appendChild(more);
    }
    this.active = -1;
    if (document.activeElement !== this.input) { this.close(); return; }  // the operator has moved on
    this.open();
    announce((items.length === 1 ? t("contacts_pc_one") : t("contacts_pc_many", { num: items.length }))
             + (hasMore ? " " + t("contacts_pc_more") : ""));
  };

  PostalAutocomplete.prototype.choose = function (i) {
    var entry = this.items[i];
    if (!entry) { return; }
    this.close();
    this.input.value = entry.item.postal_code;
    var city = this.form.querySelector("[name=city]");
    if (city) {
      city.value = entry.item.city;
      city.dispatchEvent(new Event("input", { bubbles: true }));
      city.dispatchEvent(new Event("change", { bubbles: true }));
    }
    announce(t("contacts_pc_chosen", { label: entry.text }));
    this.input.dispatchEvent(new CustomEvent("contacts:chosen", { detail: entry.item }));
  };

  document.addEventListener("DOMContentLoaded", function () {
    subdivisions();
    document.querySelectorAll("input[data-autocomplete]").forEach(function (input) {
      if (input.getAttribute("data-autocomplete") === "postal") { new PostalAutocomplete(input); } else { new Autocomplete(input); }
    });
    toggleAdvanced();
    checkAll();
    structureChooser();
    contactTypeChooser();
    initialFocus(sheetTabs());
  });

  window.CoulissesContacts = { Autocomplete: Autocomplete, PostalAutocomplete: PostalAutocomplete };
})();
