/**
 * The page's only script besides htmx, served as /assets/app.js (the CSP allows no inline
 * script). It opens the confirmation dialog as a modal (focus trapped, Escape cancels), closes
 * it once the confirmed write answered, and keeps the self-refreshing services table from
 * being replaced under a half-typed lock reason.
 */
export const APP_SCRIPT = `"use strict";
(function () {
  function closestFrom(node, selector) {
    return node && node.closest ? node.closest(selector) : null;
  }
  // After the settle, not the swap: htmx wires the new form's hx-post in its settle step
  // (20 ms later). A dialog shown at the swap took a quick Enter as a native submit, a GET of
  // this page with the typed name, and the write never ran.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "dialog-slot") return;
    var dialog = target.querySelector("dialog");
    if (!dialog || dialog.open) return;
    dialog.showModal();
    var input = dialog.querySelector("input[name=confirm]");
    if (input) input.focus();
  });
  // htmx wires a swapped-in form only in its settle step, 20 ms after the swap (the services
  // table is swapped every 5 s). A submit in between reached here not prevented: natively it
  // would GET this page with the form's values and write nothing. It is sent through htmx.
  // (htmx's own handler, on the form, runs first and prevents the submits it has taken.)
  // The submit it sends comes back here (htmx.trigger dispatches it at once): if htmx still
  // did not take it, it is dropped rather than sent again without end.
  var resending = false;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form || !form.hasAttribute || !form.hasAttribute("hx-post")) return;
    event.preventDefault();
    if (resending) return;
    resending = true;
    try {
      htmx.process(form);
      htmx.trigger(form, "submit");
    } finally {
      resending = false;
    }
  });
  document.addEventListener("click", function (event) {
    var button = closestFrom(event.target, "[data-close-dialog]");
    var dialog = closestFrom(button, "dialog");
    if (dialog) dialog.close();
  });
  // A closed dialog is gone: the next Promote asks again, with a fresh preview.
  document.addEventListener("close", function (event) {
    if (event.target && event.target.tagName === "DIALOG") event.target.remove();
  }, true);
  document.addEventListener("htmx:afterRequest", function (event) {
    var dialog = closestFrom(event.detail.elt, "dialog");
    if (!dialog || !dialog.open) return;
    dialog.close();
    var result = document.getElementById("result");
    if (result) result.focus();
  });
  function typingIn(elt) {
    var active = document.activeElement;
    return !!active && elt.contains(active) && active.tagName === "INPUT" && active.value !== "";
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "services" && typingIn(elt)) event.preventDefault();
  });
  // A refresh already on its way when the typing began: its answer is dropped, not swapped
  // over the half-typed reason (the next refresh brings the table).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "services" && typingIn(elt)) event.detail.shouldSwap = false;
  });
})();
`;
