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
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "dialog-slot") return;
    var dialog = target.querySelector("dialog");
    if (!dialog || dialog.open) return;
    dialog.showModal();
    var input = dialog.querySelector("input[name=confirm]");
    if (input) input.focus();
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
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.id !== "services") return;
    var active = document.activeElement;
    if (active && elt.contains(active) && active.tagName === "INPUT" && active.value !== "") {
      event.preventDefault();
    }
  });
})();
`;
