// The counter's few lines of script. Every page works without it; with it the counter is
// quicker: "v" + Enter in Klantnummer asks "Systeem nummer laten genereren?", search results
// appear while typing, dialogs open over the page, and a form is sent once per click.
(function () {
  "use strict";

  function focusable(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return !el.disabled && el.type !== "hidden" && el.tabIndex >= 0 &&
        el.offsetParent !== null && !el.hasAttribute("data-generate-number") &&
        !(el.type === "radio" && !el.checked && form.querySelector(
          'input[type=radio][name="' + el.name + '"]:checked'));
    });
  }

  function focusNext(el) {
    if (!el.form) return;
    var items = focusable(el.form);
    var next = items[items.indexOf(el) + 1];
    if (next) next.focus();
  }

  // Dialogs: Left/Right (and Up/Down) move between the buttons, as in a desktop dialog.
  function dialogArrows(dialog) {
    dialog.addEventListener("keydown", function (ev) {
      if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].indexOf(ev.key) < 0) return;
      var buttons = Array.prototype.slice.call(
        dialog.querySelectorAll(".dialog-buttons button, .dialog-buttons a"));
      var i = buttons.indexOf(document.activeElement);
      if (i < 0) return;
      ev.preventDefault();
      var step = ev.key === "ArrowLeft" || ev.key === "ArrowUp" ? -1 : 1;
      buttons[(i + step + buttons.length) % buttons.length].focus();
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("dialog"), dialogArrows);

  // Browsers skip autofocus on a page opened at a #fragment (the customer page after a change
  // of the login account): give the focus to the page's [autofocus] field all the same.
  // (After the load: the browser moves to the fragment then, and would take the focus away.)
  var autofocus = document.querySelector("main [autofocus]");
  if (window.location.hash && autofocus) {
    window.addEventListener("load", function () {
      if (document.activeElement === document.body) autofocus.focus();
    });
  }

  // A dialog rendered open (readable without script) becomes modal, with focus on its
  // [autofocus] button. Closed other than by Ja (Nee, Escape), the focus goes back to the field
  // named by data-return-focus, selected, so staff can correct what they typed.
  Array.prototype.forEach.call(document.querySelectorAll("dialog[data-modal]"), function (d) {
    if (!d.showModal) return;
    d.close();
    d.showModal();
    var first = d.querySelector("[autofocus]");
    if (first) first.focus();
    var back = d.getAttribute("data-return-focus");
    if (back) {
      d.addEventListener("close", function () {
        if (d.returnValue === "ja") return;
        var field = document.getElementById(back);
        if (field) {
          field.focus();
          if (field.select) field.select();
        }
      });
    }
  });

  // A field marked data-shown-by="name=value" shows only while that radio is chosen (the
  // mandate's date and account holder under "Machtiging automatische incasso" Ja), so Tab
  // skips it otherwise. Hidden, it is still sent: nothing typed is lost by a Nee.
  Array.prototype.forEach.call(document.querySelectorAll("[data-shown-by]"), function (field) {
    var rule = field.getAttribute("data-shown-by").split("=");
    var form = field.closest("form");
    if (!form) return;
    var radios = form.querySelectorAll('input[type=radio][name="' + rule[0] + '"]');
    var update = function () {
      var chosen = form.querySelector('input[type=radio][name="' + rule[0] + '"]:checked');
      field.hidden = !(chosen && chosen.value === rule[1]);
    };
    Array.prototype.forEach.call(radios, function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  });

  // Klantnummer: "v" + Enter asks to generate a number; Ja fills in the row of V's.
  var number = document.getElementById("id_number");
  var numberDialog = document.getElementById("number-dialog");
  var generateButton = document.querySelector("[data-generate-number]");
  if (number && numberDialog && numberDialog.showModal && generateButton) {
    var generated = generateButton.getAttribute("data-generate-number");
    var fill = function () {
      number.value = generated;
      number.removeAttribute("aria-invalid");
      focusNext(number);
    };
    number.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter") return;
      // Enter here never sends the form: a scanner ends a card number with Enter.
      ev.preventDefault();
      var value = number.value.trim();
      if (value === generated) {
        focusNext(number);
      } else if (/^v+$/i.test(value)) {
        numberDialog.returnValue = "";
        numberDialog.showModal();
      } else if (value) {
        focusNext(number);
      }
    });
    numberDialog.addEventListener("close", function () {
      if (numberDialog.returnValue === "ja") {
        fill();
      } else {
        number.focus();
        number.select();
      }
    });
    generateButton.addEventListener("click", fill);
  }

  // Search as you type: the server renders the results; this fetches and shows them.
  var searchForm = document.querySelector("form[data-search]");
  if (searchForm && window.fetch) {
    var input = searchForm.querySelector("input[name=q]");
    var results = document.getElementById(searchForm.getAttribute("data-search"));
    var url = searchForm.getAttribute("data-search-url");
    var shown = input.value.trim();
    var timer = 0;
    var controller = null;
    var links = function () { return results.querySelectorAll("a.result"); };
    var run = function () {
      var q = input.value.trim();
      if (q === shown) return Promise.resolve();
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      return fetch(url + "?q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
        signal: controller ? controller.signal : undefined,
      }).then(function (response) {
        if (response.redirected) { window.location.reload(); return; }  // logged out
        return response.text().then(function (html) {
          results.innerHTML = html;
          shown = q;
          var address = q ? "?q=" + encodeURIComponent(q) : window.location.pathname;
          window.history.replaceState(null, "", address);
        });
      }).catch(function () { /* a newer search replaced this one */ });
    };
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, 120);
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown" && links().length) {
        ev.preventDefault();
        links()[0].focus();
      } else if (ev.key === "Enter") {
        // A scanned or typed number with exactly one customer opens that customer.
        ev.preventDefault();
        window.clearTimeout(timer);
        run().then(function () {
          var found = links();
          if (found.length === 1) window.location.href = found[0].href;
        });
      }
    });
    results.addEventListener("keydown", function (ev) {
      if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
      var found = Array.prototype.slice.call(links());
      var i = found.indexOf(document.activeElement);
      if (i < 0) return;
      ev.preventDefault();
      if (ev.key === "ArrowUp" && i === 0) { input.focus(); return; }
      var next = found[i + (ev.key === "ArrowDown" ? 1 : -1)];
      if (next) next.focus();
    });
  }

  // "Bevestig" before a change that cannot be undone (Vergeet inlogaccount).
  var confirmDialog = document.getElementById("confirm-dialog");
  var pending = null;
  if (confirmDialog && confirmDialog.showModal) {
    confirmDialog.addEventListener("close", function () {
      // The close event comes a moment after the dialog closed (the focus is already back on
      // the form's button); if the question was asked again meanwhile, this close is old news
      // and must not take the new question's form.
      if (confirmDialog.open) return;
      var form = pending;
      pending = null;
      if (form && confirmDialog.returnValue === "ja") {
        form.setAttribute("data-confirmed", "1");
        form.requestSubmit ? form.requestSubmit() : form.submit();
      } else if (form) {
        var button = form.querySelector("button[type=submit]");
        if (button) button.focus();
      }
    });
  }

  // A new customer is kept nowhere until OK: Afsluiten with something typed asks first
  // ("Afsluiten zonder opslaan?", Nee in focus), and so does leaving the page another way
  // (the browser's own question). Sending the form (Volgende, OK) is no leaving.
  var registration = document.getElementById("new-customer");
  var closeDialog = document.getElementById("close-dialog");
  if (registration) {
    var leaving = false;
    var closing = null;
    var typed = function () {
      return Array.prototype.some.call(registration.elements, function (el) {
        // A hidden field (the mandate's signing date, prefilled with today, under Nee) is
        // not typed.
        return el.tagName === "INPUT" && el.type !== "hidden" && el.type !== "radio" &&
          el.type !== "checkbox" && el.value.trim() !== "" && !el.closest("[hidden]");
      });
    };
    registration.addEventListener("submit", function () { leaving = true; });
    window.addEventListener("pageshow", function () { leaving = false; });
    window.addEventListener("beforeunload", function (ev) {
      if (leaving || !typed()) return;
      ev.preventDefault();
      ev.returnValue = "";  // older browsers ask only when this is set
    });
    if (closeDialog && closeDialog.showModal) {
      Array.prototype.forEach.call(document.querySelectorAll("a[data-close-check]"),
        function (link) {
          link.addEventListener("click", function (ev) {
            if (!typed()) return;  // an empty form just closes
            ev.preventDefault();
            closing = link;
            closeDialog.returnValue = "";
            closeDialog.showModal();
            var no = closeDialog.querySelector('.dialog-buttons button[value="nee"]');
            if (no) no.focus();
          });
        });
      closeDialog.addEventListener("close", function () {
        var link = closing;
        closing = null;
        if (!link) return;
        if (closeDialog.returnValue === "ja") {
          leaving = true;
          window.location.href = link.href;
        } else {
          link.focus();
        }
      });
    }
  }

  // "Inlogaccount wordt aangemaakt" right after OK: the KB's answer is normally a moment away
  // (a double click's second answer can come before the first's call is done). Look again a
  // few times; once the KB has been tried and did not answer, the page says so and stays.
  if (document.querySelector("[data-refresh-soon]")) {
    var tries = Number(sessionStorage.getItem("bieb-refresh-soon") || "0");
    if (tries < 5) {
      sessionStorage.setItem("bieb-refresh-soon", String(tries + 1));
      window.setTimeout(function () { window.location.reload(); }, 1000);
    }
  } else {
    sessionStorage.removeItem("bieb-refresh-soon");
  }

  // One submit per form: a second click while the page is loading is ignored (the server
  // would ignore it as well). A form marked data-allow-repeat is left alone (tests).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || form.method === "dialog") return;
    // A button with formmethod="dialog" (a server-rendered question's Nee) only closes it.
    if (ev.submitter && ev.submitter.getAttribute("formmethod") === "dialog") return;
    var question = form.getAttribute("data-confirm");
    if (question && confirmDialog && confirmDialog.showModal && !form.hasAttribute("data-confirmed")) {
      ev.preventDefault();
      pending = form;
      document.getElementById("confirm-dialog-text").textContent = question;
      confirmDialog.returnValue = "";
      confirmDialog.showModal();
      // Nee unless the form says ja: a destructive change is never one Enter away.
      var answer = form.getAttribute("data-confirm-focus") === "ja" ? "ja" : "nee";
      var button = confirmDialog.querySelector('.dialog-buttons button[value="' + answer + '"]');
      if (button) button.focus();
      return;
    }
    if (form.hasAttribute("data-allow-repeat")) return;
    if (form.hasAttribute("data-busy")) {
      ev.preventDefault();
      return;
    }
    form.setAttribute("data-busy", "1");
    window.setTimeout(function () { form.removeAttribute("data-busy"); }, 10000);
  });
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-busy], form[data-confirmed]"),
      function (form) { form.removeAttribute("data-busy"); form.removeAttribute("data-confirmed"); });
  });
})();
