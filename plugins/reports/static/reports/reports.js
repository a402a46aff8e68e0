/* The reports screen: the download buttons choose the format; a background run's page follows its
 * progress. Strings come from the page (data- attributes). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".reports-download");
    if (!button) { return; }
    var field = document.getElementById("reports-format");
    if (field) { field.value = button.getAttribute("data-format"); }
  });

  var box = document.querySelector("[data-status-url]");
  if (!box) { return; }
  var progress = document.getElementById("run-progress");
  var state = document.getElementById("run-state");
  var result = document.getElementById("run-result");
  function text(key) { return box.getAttribute("data-msg-" + key) || ""; }
  function show(status) {
    progress.value = status.percent;
    progress.textContent = status.percent + " %";
    var total = status.rows_total ? " / " + status.rows_total : "";
    state.textContent = status.state_label + " — " + status.rows_done + total + " " + text("rows");
    state.setAttribute("data-state", status.state);
    if (status.state === "done" && status.download) {
      result.textContent = "";
      var link = document.createElement("a");
      link.className = "btn btn-primary";
      link.href = status.download;
      link.setAttribute("data-testid", "run-download");
      link.textContent = text("download") + " " + (status.file_name || "");
      result.appendChild(link);
      link.focus();
      return true;
    }
    if (status.state === "failed") {
      result.textContent = "";
      var span = document.createElement("span");
      span.className = "text-danger";
      span.setAttribute("role", "alert");
      span.textContent = text("failed") + " " + (status.error || "");
      result.appendChild(span);
      return true;
    }
    return false;
  }
  function poll() {
    fetch(box.getAttribute("data-status-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (status) { if (!show(status)) { window.setTimeout(poll, 1000); } })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  var initial = state.getAttribute("data-state");
  if (initial !== "done" && initial !== "failed") { window.setTimeout(poll, 500); }
})();
