// "Betalen" sends its form once: a second tap while the provider's page loads does nothing
// (the server would give the same payment anyway). Back from the provider (the page comes from
// the browser's cache), the button works again.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("form[data-once]")) return;
  if (form.dataset.sent) { event.preventDefault(); return; }
  form.dataset.sent = "1";
  const button = form.querySelector("button[type=submit]");
  if (button) { button.dataset.label = button.textContent; button.setAttribute("aria-disabled", "true"); button.textContent = "Even geduld…"; }
});
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-once][data-sent]")) {
    delete form.dataset.sent;
    const button = form.querySelector("button[type=submit]");
    if (button) { button.removeAttribute("aria-disabled"); button.textContent = button.dataset.label || button.textContent; }
  }
});
