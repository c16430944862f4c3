// Enhances the donation form: amounts and "per month" follow the chosen frequency and
// currency without a reload. Without this script the form still works (server validates).
(function () {
  "use strict";
  var form = document.querySelector(".donation-form");
  var data = document.getElementById("suggestions");
  if (!form || !data) { return; }
  var table = JSON.parse(data.textContent);
  var per = JSON.parse(document.getElementById("per-labels").textContent);
  var box = form.querySelector("[data-amounts]");
  var perLabel = form.querySelector("[data-per]");

  function chosen(name) {
    var el = form.querySelector("[name=" + name + "]:checked") || form.querySelector("select[name=" + name + "]");
    return el ? el.value : "";
  }

  function redraw() {
    var entry = (table[chosen("frequency")] || {})[form.currency.value];
    if (!entry) { return; }
    var keep = chosen("amount");
    box.textContent = "";
    entry.amounts.forEach(function (pair) {
      var label = document.createElement("label");
      label.className = "choice";
      var input = document.createElement("input");
      input.type = "radio"; input.name = "amount"; input.value = pair[0];
      input.checked = keep === "other" ? false : pair[0] === entry["default"];
      var text = document.createElement("span");
      text.textContent = pair[1];
      label.appendChild(input); label.appendChild(document.createTextNode(" ")); label.appendChild(text);
      box.appendChild(label);
    });
    perLabel.textContent = per[chosen("frequency")] || "";
  }

  // The cover-the-fees label names the figure for the chosen amount (donations/fees.py does the
  // same sum on the server, and its figure is the one charged); while no valid amount is
  // chosen it gives the estimate in words, for the chosen currency.
  var feeRules = document.getElementById("fee-rules");
  var feeLabel = form.querySelector("[data-fee-label]");
  var rules = feeRules ? JSON.parse(feeRules.textContent) : null;

  function minorUnits(text, digits) {
    var match = /^(\d{1,9})(?:[.,](\d*))?$/.exec(text.trim());
    if (!match || (match[2] || "").length > digits) { return null; }
    var decimals = (match[2] || "").padEnd(digits, "0");
    return parseInt(match[1], 10) * Math.pow(10, digits) + (digits ? parseInt(decimals, 10) : 0);
  }

  function showFee() {
    if (!rules || !feeLabel) { return; }
    var currency = form.currency.value;
    var digits = rules.exponent[currency];
    var choice = chosen("amount");
    var typed = form.custom_amount.value;
    var gift = minorUnits(choice === "other" || typed.trim() ? typed : choice, digits === undefined ? 2 : digits);
    if (!gift || digits === undefined) {
      feeLabel.textContent = rules.label.replace("{fee}", rules.words[currency] || "");
      return;
    }
    var total = Math.ceil((gift + (rules.fixed[currency] || 0)) * 10000 / (10000 - rules.points));
    var fee = (total - gift) / Math.pow(10, digits);
    var shown = new Intl.NumberFormat(document.documentElement.lang || "en", { style: "currency", currency: currency }).format(fee);
    feeLabel.textContent = rules.label.replace("{fee}", shown);
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "frequency" || event.target.name === "currency") { redraw(); }
    if (event.target.name === "custom_amount") { form.querySelector("#amount-other").checked = true; }
    // Picking a suggestion clears the typed amount, which would otherwise win on the server.
    if (event.target.name === "amount" && event.target.value !== "other") { form.custom_amount.value = ""; }
  });
  form.addEventListener("change", showFee);
  form.custom_amount.addEventListener("input", function () { form.querySelector("#amount-other").checked = true; showFee(); });
  showFee();
})();
