/* Scans shown live (plugins/devices/live.py): the page long-polls the scans of its point of sale
 * (GET /api/v1/devices/scans?after=…&wait=…, answered as soon as a scan is recorded, or empty after
 * at most DEVICES_LONG_POLL_SECONDS), and when one was used by the page's plugin it reads the page
 * again and redraws the elements marked data-live-region="name" — keeping what the operator typed
 * there and the focus — then announces the scan in a polite live region.
 * After it: a "coulisses:live-refreshed" event on document (the page's own script updates its totals).
 * A scan no basket took, on a page that can take it (data-claim-form: the sales screen with no basket
 * yet): the page claims it (POST …/scans/<id>/claim; one open screen wins, the others say another one
 * took it) and submits its form with the barcode, as the operator typing it in that field would. */
(function () {
  "use strict";

  var feed = document.querySelector("[data-devices-live-scans]");
  if (!feed || !window.fetch || !window.DOMParser) { return; }
  var WAIT = 25;
  var after = parseInt(feed.getAttribute("data-after"), 10) || 0;
  var consumer = feed.getAttribute("data-consumer");
  var failures = 0;
  var claimForm = feed.getAttribute("data-claim-form");

  function t(key, values) {
    var C = window.Coulisses;
    return C ? C.format(C.t(key), values) : key;
  }

  function announce(text) {
    var box = document.getElementById("devices-live-announce");
    if (!box) { return; }
    box.textContent = "";  // the same words twice are read twice
    window.setTimeout(function () { box.textContent = text; }, 100);
  }

  function controlKey(el) {
    return el.id ? "#" + el.id : (el.name ? el.name + "|" + (el.type === "checkbox" || el.type === "radio" ? el.value : "") : null);
  }

  function changedControls(region) {
    // what the operator changed in a region since it was drawn: kept over the fresh copy
    var kept = {};
    region.querySelectorAll("input, select, textarea").forEach(function (el) {
      var key = controlKey(el);
      if (!key || el.type === "hidden") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked !== el.defaultChecked) { kept[key] = {checked: el.checked}; }
      } else if (el.tagName === "SELECT") {
        var dirty = Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
        if (dirty) { kept[key] = {value: el.value}; }
      } else if (el.value !== el.defaultValue) {
        kept[key] = {value: el.value};
      }
    });
    return kept;
  }

  function restore(region, kept) {
    region.querySelectorAll("input, select, textarea").forEach(function (el) {
      var key = controlKey(el);
      if (!key || !Object.prototype.hasOwnProperty.call(kept, key)) { return; }
      if ("checked" in kept[key]) { el.checked = kept[key].checked; } else { el.value = kept[key].value; }
    });
  }

  function redraw(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var active = document.activeElement, activeKey = null, selection = null;
    document.querySelectorAll("[data-live-region]").forEach(function (region) {
      var name = region.getAttribute("data-live-region");
      var next = fresh.querySelector('[data-live-region="' + name + '"]');
      if (!next) { return; }
      var kept = changedControls(region);
      if (active && region.contains(active)) {
        activeKey = controlKey(active);
        try { selection = [active.selectionStart, active.selectionEnd]; } catch (e) { selection = null; }
      }
      var copy = document.importNode(next, true);
      region.replaceWith(copy);
      restore(copy, kept);
      if (activeKey) {
        var again = activeKey.charAt(0) === "#" ? copy.querySelector(activeKey.replace(/([^\w#-])/g, "\\$1")) : null;
        if (again) {
          again.focus();
          if (selection && selection[0] !== null && again.setSelectionRange) {
            try { again.setSelectionRange(selection[0], selection[1]); } catch (e) { /* not a text field */ }
          }
        }
        activeKey = null;
      }
    });
    document.dispatchEvent(new CustomEvent("coulisses:live-refreshed"));
  }

  function refreshed(codes) {
    return fetch(feed.getAttribute("data-refresh-url"), {credentials: "same-origin", headers: {Accept: "text/html"}})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        redraw(html);
        // the page marks what a scan can bring with data-scan-code: absent, another basket took it
        var words = codes.map(function (code) {
          var here = document.querySelector('[data-scan-code="' + String(code).replace(/["\\]/g, "\\$&") + '"]');
          // the page may say itself what the scan did (data-scan-said: "first ticket of the range…")
          if (here && here.getAttribute("data-scan-said")) { return here.getAttribute("data-scan-said"); }
          return t(here ? "devices.scanTaken" : "devices.scanElsewhere", {code: code});
        });
        announce(words.join(" "));
      });
  }

  function csrf() {
    var meta = document.querySelector("meta[name=csrf-token]") || document.querySelector("input[name=csrf_token]");
    return meta ? (meta.getAttribute("content") || meta.value || "") : "";
  }

  function claim(scan) {
    // resolves to true when this page took the scan (and is submitting its form), else announces why not
    return fetch(feed.getAttribute("data-scans-url") + "/" + scan.id + "/claim", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf()},
      body: JSON.stringify({consumer: consumer})
    }).then(function (r) {
      var form = document.getElementById(claimForm);
      if (r.ok && form) {
        var field = form.querySelector('[name="' + feed.getAttribute("data-claim-field") + '"]');
        var button = document.getElementById(feed.getAttribute("data-claim-button"));
        if (field && button) {
          field.value = scan.code;
          announce(t("devices.scanClaimed", {code: scan.code}));
          button.click();  // the screen's own path for a typed barcode: the lines being typed come back
          return true;
        }
      }
      announce(t(r.status === 409 ? "devices.scanElsewhere" : "devices.scanUnused", {code: scan.code}));
      return false;
    });
  }

  function handle(scans) {
    var mine = [], others = [], unused = null;
    scans.forEach(function (scan) {
      after = Math.max(after, scan.id);
      if (scan.consumed_by === consumer) { mine.push(scan.code); }
      else if (!scan.consumed_by && claimForm && !unused) { unused = scan; }
      else { others.push(t(scan.consumed_by ? "devices.scanElsewhere" : "devices.scanUnused", {code: scan.code})); }
    });
    if (others.length) { announce(others.join(" ")); }
    if (unused) {
      // the page goes away when it took the scan: no more polling from here
      return claim(unused).then(function (took) { return took ? new Promise(function () {}) : null; });
    }
    return mine.length ? refreshed(mine) : Promise.resolve();
  }

  function poll() {
    var url = feed.getAttribute("data-scans-url") + "?location_code=" + encodeURIComponent(feed.getAttribute("data-location")) +
      "&after=" + after + "&wait=" + WAIT;
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (scans) { failures = 0; return handle(scans); })
      .then(poll, function () {
        // the server restarting, the network dropping: ask again later (1 s, 2 s, 4 s… up to a minute)
        failures += 1;
        if (failures === 4) { announce(t("devices.liveLost")); }
        window.setTimeout(poll, Math.min(60000, 500 * Math.pow(2, failures)));
      });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", poll); } else { poll(); }
})();
