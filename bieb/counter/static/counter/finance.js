// The counter's "Financieel": the kasopmaak's "Afdrukken" button (no inline script: strict CSP).
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (button) {
    window.print();
  }
});
