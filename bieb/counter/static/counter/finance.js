// The counter's "Financieel": the kasopmaak's "Afdrukken" button (no inline script: strict CSP).
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (button) {
    window.print();
  }
});

// "Openstaande bedragen incasseren": a box that chooses every customer on the page, and the
// question before planning that says how many were chosen and how much (counter.js asks it).
// Nothing chosen: no question, and the server says to choose someone.
(() => {
  const form = document.getElementById("open-debits");
  if (!form) {
    return;
  }
  const all = document.getElementById("open-debits-all");
  const boxes = () => Array.from(form.querySelectorAll('input[name="klant"]:not(:disabled)'));
  const euro = (cents) => {
    const whole = String(Math.floor(cents / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return `€ ${whole},${String(cents % 100).padStart(2, "0")}`;
  };
  const update = () => {
    const chosen = boxes().filter((box) => box.checked);
    const cents = chosen.reduce((sum, box) => sum + Number(box.dataset.cents || 0), 0);
    if (all) {
      all.checked = chosen.length > 0 && chosen.length === boxes().length;
      all.indeterminate = chosen.length > 0 && chosen.length < boxes().length;
    }
    if (!chosen.length) {
      form.removeAttribute("data-confirm");
      return;
    }
    const who = chosen.length === 1 ? "1 klant" : `${chosen.length} klanten`;
    form.setAttribute(
      "data-confirm",
      `De openstaande bedragen van ${who} (${euro(cents)}) incasseren op ` +
        `${form.dataset.confirmDate}? De klanten krijgen nu een vooraankondiging per e-mail.`,
    );
  };
  if (all && boxes().length) {
    all.hidden = false;
    all.addEventListener("change", () => {
      boxes().forEach((box) => {
        box.checked = all.checked;
      });
      update();
    });
  }
  form.addEventListener("change", update);
  update();
})();
