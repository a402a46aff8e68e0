/* Coulisses — the host's page behaviours. The content security policy allows no inline JavaScript
 * (no onclick=, onchange=, onsubmit=, no javascript: links), so templates declare behaviour with
 * attributes this script gives life to:
 *
 *   <form data-confirm="Supprimer ce lien ?">        asks before sending the form
 *   <button data-confirm="Annuler les billets ?">    asks before the click goes on
 *   <select data-autosubmit>                          sends its form when the choice changes
 *   <a data-model-action="delete">                    a Flask-Admin bulk action ("With selected")
 *   <a data-inline-add="areas">                       adds a Flask-Admin inline form
 *   <a href="#" data-prevent-default>                 a menu entry that only runs a script
 *
 * and runs the "change operator" dialog of the operator menu. Texts come from the page.
 */
(function () {
  "use strict";

  function closest(el, selector) {
    return el && el.closest ? el.closest(selector) : null;
  }

  // javascript: links (Flask-Admin's tabs and filter menus) must not be followed: the policy refuses them
  document.addEventListener("click", function (e) {
    if (closest(e.target, "a[href^='javascript:']")) { e.preventDefault(); }
  }, true);

  // data-confirm on a button or link: asked before anything else handles the click
  document.addEventListener("click", function (e) {
    var el = closest(e.target, "[data-confirm]:not(form)");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // data-confirm on a form: asked when it is sent
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // data-autosubmit: a select that sends its form when changed
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("[data-autosubmit]") || !el.form) { return; }
    if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
  });

  // Flask-Admin's bulk actions: its actions.js defines window.modelActions
  document.addEventListener("click", function (e) {
    var el = closest(e.target, "[data-model-action]");
    if (!el) { return; }
    e.preventDefault();
    if (window.modelActions) { window.modelActions.execute(el.getAttribute("data-model-action")); }
  });

  // Flask-Admin's inline forms (form.js defines window.faForm)
  document.addEventListener("click", function (e) {
    var el = closest(e.target, "[data-inline-add]");
    if (!el) { return; }
    e.preventDefault();
    if (window.faForm) { window.faForm.addInlineField(el, el.getAttribute("data-inline-add")); }
  });

  document.addEventListener("click", function (e) {
    if (closest(e.target, "[data-prevent-default]")) { e.preventDefault(); }
  });

  // ------------------------------------------------------------------ names for Flask-Admin's widgets

  // Widgets Flask-Admin builds in the browser get an accessible name: select2's choice link (named after
  // its field's label) and the column help icons (Bootstrap's tooltip moves their title away).
  function nameWidgets() {
    Array.prototype.forEach.call(document.querySelectorAll(".select2-container"), function (box) {
      var choice = box.querySelector("a.select2-choice");
      var chosen = choice && choice.querySelector(".select2-chosen");
      var original = box.nextElementSibling;  // select2 puts its box just before the field it replaces
      var fieldId = (box.id || "").replace(/^s2id_/, "") || (original && original.id) || "";
      var label = fieldId && document.querySelector("label[for='" + fieldId + "']");
      if (!choice || !label || choice.hasAttribute("aria-labelledby")) { return; }
      if (!label.id) { label.id = fieldId + "-label"; }
      // named by its label, then the choice shown (which changes as the operator chooses)
      choice.setAttribute("aria-labelledby", label.id + (chosen && chosen.id ? " " + chosen.id : ""));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-role=tooltip]"), function (el) {
      var text = el.getAttribute("data-original-title") || el.getAttribute("title");
      if (text && !el.textContent.trim() && !el.getAttribute("aria-label")) {
        el.setAttribute("aria-label", text);  // still focusable: the description shows on focus too
      }
    });
  }
  window.addEventListener("load", nameWidgets);
  // Flask-Admin applies select2 from jQuery's ready handlers, which may run after "load": name the
  // widgets as soon as they are added (a mutation observer runs before the next task)
  if (window.MutationObserver) {
    var pending = false;
    new MutationObserver(function () {
      if (pending) { return; }
      pending = true;
      Promise.resolve().then(function () { pending = false; nameWidgets(); });
    }).observe(document.documentElement, {childList: true, subtree: true, attributes: true,
                                          attributeFilter: ["data-original-title"]});
  }

  // ------------------------------------------------------------------ change operator

  function announce(text) {
    var live = document.getElementById("coulisses-announce");
    if (live) { live.textContent = text; }
  }

  // After the change the session is new: every form of the page gets the new CSRF token
  function renewCsrf(token) {
    Array.prototype.forEach.call(document.querySelectorAll("input[name=csrf_token]"), function (input) {
      input.value = token;
    });
    Array.prototype.forEach.call(document.querySelectorAll("meta[name=csrf-token]"), function (meta) {
      meta.setAttribute("content", token);
    });
  }

  function showOperator(data) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-operator-name]"), function (el) {
      el.textContent = data.name;
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-operator-login]"), function (el) {
      el.textContent = data.login;
      el.setAttribute("data-operator-login", data.login);
    });
  }

  function initChangeOperator() {
    var form = document.getElementById("change-operator-form");
    if (!form) { return; }
    var dialog = document.getElementById("change-operator-dialog");
    var error = document.getElementById("change-operator-error");
    var submit = document.getElementById("change-operator-submit");
    var $ = window.jQuery;

    function showError(message) {
      error.textContent = message;
      error.classList.remove("d-none");
      form.login.setAttribute("aria-invalid", "true");
      form.password.value = "";
      form.password.focus();
    }

    if ($) {
      $(dialog).on("shown.bs.modal", function () { form.login.focus(); });
      $(dialog).on("hidden.bs.modal", function () {
        form.reset();
        error.classList.add("d-none");
        form.login.removeAttribute("aria-invalid");
      });
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      submit.disabled = true;
      fetch(form.action, {
        method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: { Accept: "application/json" }
      }).then(function (r) {
        return r.json().then(function (d) { return { status: r.status, data: d }; },
                             function () { return { status: r.status, data: {} }; });
      }).then(function (res) {
        submit.disabled = false;
        if (res.status !== 200) {
          showError((res.data.error && res.data.error.message) || form.getAttribute("data-failed"));
          return;
        }
        renewCsrf(res.data.csrf_token);
        showOperator(res.data);
        announce(res.data.message);
        if ($) { $(dialog).modal("hide"); }
      }, function () {
        submit.disabled = false;
        showError(form.getAttribute("data-failed"));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", initChangeOperator);
})();
