/* Coulisses — contacts screens: the project's one autocomplete (ARIA combobox) and a few form helpers.
 * Plain JavaScript, no build step. The autocomplete calls the contacts API with the session cookie.
 *
 * <input data-autocomplete="navigate" data-sheet-url=".../sheet/" data-create-url=".../new/">
 *     the quick search box: an entry opens the sheet, the last entry creates a new contact;
 * <input data-autocomplete="structure" data-target="#hidden">  choose a structure (its number goes to #hidden);
 * <input data-autocomplete="number">  choose any contact: its number replaces what was typed;
 * <input data-autocomplete="postal" name="postal_code">  a French postal code proposes its cities
 *     (GET /api/v1/contacts/postal-codes); choosing one fills the code and the form's [name=city].
 *
 * Other plugins' screens (the sell screen's buyer and payer, the refunds basket's contact) use the same
 * widget: CoulissesContacts.Autocomplete(input, {onChoose: function (entry) {...}, ...}) (see Autocomplete).
 */
(function () {
  "use strict";

  var API = "/api/v1/contacts";
  var MIN_CHARS = 2;
  // Issue 17: long enough to skip the keys of an operator typing fast, short enough not to be felt;
  // a request still running when the operator types on is cancelled (AbortController).
  var DEBOUNCE_MS = 50;
  var counter = 0;

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

  function contactLabel(item) {
    if (item.label) { return item.label; }
    // advanced-mode items (structures) carry no label: build one in the same format
    return item.name + " | " + (item.city || "-") + " [" + item.number + "]";
  }

  /* What a box searches and what choosing does, by its data-autocomplete. Every option may be given
   * to Autocomplete(input, options) to change it:
   *   query()          what to search for now, or null when nothing is to be proposed (too short…);
   *   url(q)           the address that answers {items: [...], has_more: bool};
   *   entry(item)      {item, text, muted} shown for one answered item;
   *   messages         the Coulisses.t keys: none, one, many, more, chosen;
   *   onChoose(entry)  what choosing an entry does (the focus stays in the box unless it navigates);
   *   onCreate(typed)  when given, a last entry "Créer un nouveau contact…" calls it;
   *   chooseOnTab      Tab keeps the highlighted entry before going on (a chooser; never a search box
   *                    whose entries open pages);
   *   submitOnEnter    Enter with nothing highlighted submits the form (the quick search box only);
   *   soleOnEnter      Enter with nothing highlighted chooses the only contact proposed. */
  function defaults(ac, mode) {
    var input = ac.input;
    var contacts = {
      query: function () {
        var q = input.value.trim();
        return q.length >= MIN_CHARS ? q : null;
      },
      url: function (q) {
        var params = new URLSearchParams();
        params.set("q", q);
        params.set("limit", "15");
        params.set("with_total", "false");  // the list says "more" from has_more: no count needed
        if (mode === "structure") { params.set("nature", "structure"); }
        return API + "?" + params.toString();
      },
      entry: function (item) { return { item: item, text: contactLabel(item), muted: item.valid === false }; },
      messages: { none: "contacts_ac_none", one: "contacts_ac_one", many: "contacts_ac_many",
                  more: "contacts_ac_more", chosen: "contacts_ac_chosen" },
      chooseOnTab: mode !== "navigate",
      submitOnEnter: mode === "navigate",
      soleOnEnter: false,
      onCreate: null,
      onChoose: function (entry) {
        input.value = String(entry.item.number);
        announce(t(this.messages.chosen, { label: entry.text }));
      }
    };
    if (mode === "navigate") {
      var createUrl = input.getAttribute("data-create-url");
      contacts.onChoose = function (entry) {
        window.location.href = input.getAttribute("data-sheet-url").replace(/\/?$/, "/") + entry.item.number + "/";
      };
      if (createUrl) {
        contacts.onCreate = function (typed) { window.location.href = createUrl + "?name=" + encodeURIComponent(typed); };
      }
    } else if (mode === "structure") {
      var target = document.querySelector(input.getAttribute("data-target"));
      input.addEventListener("input", function () { if (target) { target.value = ""; } });
      contacts.onChoose = function (entry) {
        input.value = entry.text;
        if (target) { target.value = entry.item.number; }
        announce(t(this.messages.chosen, { label: entry.text }));
      };
    } else if (mode === "postal") {
      return postalDefaults(ac, contacts);
    }
    return contacts;
  }

  /* The postal code box: its options are the cities of the postal code typed (France only: for another
   * country chosen in the form's [name=country], nothing is proposed). Choosing a city fills the postal
   * code and the form's [name=city]; the focus stays in the box. */
  var POSTAL_COUNTRIES = ["FR", "GP", "MQ", "GF", "RE", "YT"];

  function postalDefaults(ac, contacts) {
    var input = ac.input;
    var form = input.form || input.closest("form") || document;
    function country() {
      var select = form.querySelector("[name=country]");
      return select && select.value ? select.value.toUpperCase() : "FR";
    }
    return {
      query: function () {
        var q = input.value.replace(/\s+/g, "");
        return POSTAL_COUNTRIES.indexOf(country()) >= 0 && /^\d{2,5}$/.test(q) ? q : null;
      },
      url: function (q) {
        var params = new URLSearchParams();
        params.set("q", q);
        params.set("country", country());
        params.set("limit", "15");
        return API + "/postal-codes?" + params.toString();
      },
      entry: function (item) { return { item: item, text: item.label }; },
      messages: { none: "contacts_pc_none", one: "contacts_pc_one", many: "contacts_pc_many",
                  more: "contacts_pc_more", chosen: "contacts_pc_chosen" },
      chooseOnTab: true,
      submitOnEnter: false,
      soleOnEnter: false,
      onCreate: null,
      onChoose: function (entry) {
        input.value = entry.item.postal_code;
        var city = form.querySelector("[name=city]");
        if (city) {
          city.value = entry.item.city;
          city.dispatchEvent(new Event("input", { bubbles: true }));
          city.dispatchEvent(new Event("change", { bubbles: true }));
        }
        announce(t(this.messages.chosen, { label: entry.text }));
      }
    };
  }

  /* The ARIA combobox pattern (WAI-ARIA APG, "list autocomplete"): the focus stays in the box; the
   * list is announced; ArrowDown/ArrowUp move the highlighted option (aria-activedescendant); Enter
   * chooses it; Escape closes the list; Tab closes it and goes on to the next field, choosing the
   * highlighted option first in a chooser (never in the quick search box, where choosing opens a page).
   * The options are not focusable: the focus is never lost in the list.
   *
   * One instance per box (building a second one for the same box returns the first, with the new
   * options). A list is shown only for what the box holds now: typing on cancels the request in
   * flight, and an answer for anything but the latest query is dropped. */
  function Autocomplete(input, options) {
    if (!(this instanceof Autocomplete)) { return new Autocomplete(input, options); }
    var existing = input.coulissesAutocomplete;
    if (existing) { existing.configure(options); return existing; }
    input.coulissesAutocomplete = this;
    this.input = input;
    this.mode = (options && options.mode) || input.getAttribute("data-autocomplete");
    this.opts = defaults(this, this.mode);
    this.configure(options);
    this.items = [];
    this.active = -1;
    this.seq = 0;
    this.pending = null;
    this.timer = null;
    this.shown = null;
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
    var self = this;
    input.addEventListener("input", function () { self.typed(); });
    input.addEventListener("keydown", function (e) { self.onKey(e); });
    input.addEventListener("blur", function () { setTimeout(function () { if (document.activeElement !== input) { self.close(); } }, 150); });
    input.addEventListener("focus", function () { if (self.current()) { self.open(); } });
  }

  Autocomplete.prototype.configure = function (options) {
    var self = this;
    Object.keys(options || {}).forEach(function (k) { if (k !== "mode") { self.opts[k] = options[k]; } });
  };

  /* The operator typed: what was asked before no longer counts (cancelled, its answer dropped); the
   * new query is asked once the typing pauses. */
  Autocomplete.prototype.typed = function () {
    this.cancel();
    var self = this;
    this.timer = setTimeout(function () { self.timer = null; self.fetch(); }, DEBOUNCE_MS);
  };

  Autocomplete.prototype.cancel = function () {
    this.seq++;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.pending) { this.pending.abort(); this.pending = null; }
  };

  /* Forget the list (the box now holds a choice, not a search). */
  Autocomplete.prototype.reset = function () {
    this.cancel();
    this.items = [];
    this.shown = null;
    this.close();
  };

  Autocomplete.prototype.fetch = function () {
    this.cancel();
    var q = this.opts.query();
    if (q === null) { this.items = []; this.shown = null; this.close(); return; }
    var seq = this.seq;
    var self = this;
    var controller = window.AbortController ? new AbortController() : null;
    this.pending = controller;
    var latest = function () { return seq === self.seq && self.opts.query() === q; };
    fetch(this.opts.url(q), { credentials: "same-origin", headers: { "Accept": "application/json" },
                              signal: controller ? controller.signal : undefined })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) {
        if (!latest()) { return; }  // an answer to an earlier query: never shown
        self.pending = null;
        self.render(q, data.items || [], !!data.has_more);
      })
      .catch(function () {
        if (!latest()) { return; }  // cancelled because the operator typed on
        self.pending = null;
        self.render(q, [], false);
      });
  };

  Autocomplete.prototype.option = function (text, className) {
    var li = document.createElement("li");
    li.className = "list-group-item " + className;
    li.setAttribute("role", "option");
    li.textContent = text;
    return li;
  };

  /* A line that says something (nothing found, more than shown): not selectable, not counted. */
  Autocomplete.prototype.note = function (key, testid) {
    var li = this.option(t(key), "small text-muted py-1");
    li.setAttribute("aria-disabled", "true");
    if (testid) { li.setAttribute("data-testid", testid); }
    return li;
  };

  Autocomplete.prototype.render = function (q, found, hasMore) {
    var self = this;
    var msg = this.opts.messages;
    this.items = found.map(function (item) {
      var entry = self.opts.entry(item);
      entry.kind = "item";
      return entry;
    });
    var count = this.items.length;
    if (this.opts.onCreate) { this.items.push({ kind: "create", text: t("contacts_ac_create") }); }
    this.shown = q;
    this.list.innerHTML = "";
    this.active = -1;
    if (!this.items.length) { this.close(); announce(t(msg.none)); return; }
    if (!count) { this.list.appendChild(this.note(msg.none)); }
    this.items.forEach(function (entry, i) {
      var li = self.option(entry.text, "list-group-item-action py-1" + (entry.kind === "create" ? " ac-create" : "")
                                       + (entry.muted ? " text-muted" : ""));
      li.id = self.id + "-" + i;
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-index", String(i));
      if (entry.item && entry.item.number !== undefined) { li.setAttribute("data-number", entry.item.number); }
      li.addEventListener("mousedown", function (e) { e.preventDefault(); self.choose(i); });
      self.list.appendChild(li);
    });
    if (hasMore) {  // more matches than shown: say so, before "Créer…", else last
      this.list.insertBefore(this.note(msg.more, "autocomplete-more"), this.list.querySelector(".ac-create"));
    }
    if (document.activeElement !== this.input) { this.close(); return; }  // the operator has moved on
    this.open();
    announce((count === 1 ? t(msg.one) : (count ? t(msg.many, { num: count }) : t(msg.none)))
             + (hasMore ? " " + t(msg.more) : ""));
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

  /* The list holds the answer to what the box holds now (it may be reopened). */
  Autocomplete.prototype.current = function () {
    return this.items.length > 0 && this.shown !== null && this.opts.query() === this.shown;
  };

  Autocomplete.prototype.isOpen = function () { return !this.list.classList.contains("d-none"); };

  Autocomplete.prototype.options = function () { return this.list.querySelectorAll("[role=option][data-index]"); };

  /* The entries that are contacts, cities… (not "Créer…"). */
  Autocomplete.prototype.found = function () {
    return this.items.filter(function (entry) { return entry.kind === "item"; });
  };

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
      if (!this.isOpen()) { if (!this.current()) { return; } this.open(); }
      this.highlight(this.active + 1);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (!this.isOpen()) { if (!this.current()) { return; } this.open(); }
      this.highlight(this.active <= 0 ? this.items.length - 1 : this.active - 1);
    } else if (e.key === "Enter") {
      if (this.isOpen() && this.active >= 0) {
        e.preventDefault();
        this.choose(this.active);
      } else if (this.opts.soleOnEnter && this.isOpen() && this.found().length === 1) {
        e.preventDefault();
        this.choose(this.items.indexOf(this.found()[0]));
      } else if (!this.opts.submitOnEnter) {
        e.preventDefault();  // Enter in a chooser never submits the whole form by accident
      }
    } else if (e.key === "Escape") {
      this.cancel();  // the operator dismissed the suggestions: an answer still on its way does not reopen them
      if (this.isOpen()) { e.preventDefault(); e.stopPropagation(); this.close(); }
    } else if (e.key === "Tab") {
      // the focus goes on to the next field (never into the list); a chooser keeps the highlighted entry
      var entry = this.isOpen() && this.active >= 0 ? this.items[this.active] : null;
      if (entry && entry.kind !== "create" && this.opts.chooseOnTab) { this.choose(this.active); }
      this.close();
    }
  };

  Autocomplete.prototype.choose = function (i) {
    var entry = this.items[i];
    if (!entry) { return; }
    this.close();
    if (entry.kind === "create") { this.opts.onCreate(this.input.value.trim()); return; }
    this.cancel();  // a late answer never reopens the list over the choice
    this.opts.onChoose.call(this.opts, entry, this);
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

  document.addEventListener("DOMContentLoaded", function () {
    subdivisions();
    document.querySelectorAll("input[data-autocomplete]").forEach(function (input) { new Autocomplete(input); });
    toggleAdvanced();
    checkAll();
    structureChooser();
    contactTypeChooser();
    initialFocus(sheetTabs());
  });

  window.CoulissesContacts = { Autocomplete: Autocomplete, announce: announce };
})();
