// Enhances the donation form: a frequency's default amount is ticked when it is chosen, the
// tiles follow the currency, and the button says the gift in one sentence. Without this
// script the form still works: the CSS shows the chosen frequency's tiles and words, and the
// server checks whatever is sent.
(function () {
  "use strict";
  var form = document.querySelector(".donation-form");
  var data = document.getElementById("suggestions");
  if (!form || !data) { return; }
  var table = JSON.parse(data.textContent);
  var words = JSON.parse(document.getElementById("give-words").textContent);
  var button = form.querySelector("[data-give]");
  var other = form.querySelector("#amount-other");
  var typedBox = form.custom_amount;
  var lang = document.documentElement.lang || "en";

  var feeRules = document.getElementById("fee-rules");
  var feeLabel = form.querySelector("[data-fee-label]");
  var rules = feeRules ? JSON.parse(feeRules.textContent) : null;

  function chosen(name) {
    var el = form.querySelector("[name=" + name + "]:checked") || form.querySelector("select[name=" + name + "]");
    return el ? el.value : "";
  }

  function tilesOf(frequency) { return form.querySelector("[data-tiles=" + frequency + "]"); }

  function typed() { return typedBox.value.trim(); }

  function digitsOf(currency) {
    var digits = rules ? rules.exponent[currency] : undefined;
    return digits === undefined ? 2 : digits;
  }

  function minorUnits(text, digits) {
    var match = /^(\d{1,9})(?:[.,](\d*))?$/.exec(text.trim());
    if (!match || (match[2] || "").length > digits) { return null; }
    var decimals = (match[2] || "").padEnd(digits, "0");
    return parseInt(match[1], 10) * Math.pow(10, digits) + (digits ? parseInt(decimals, 10) : 0);
  }

  // The tiles of every frequency in the chosen currency, as the server would have drawn them.
  function redrawTiles() {
    var currency = form.currency.value;
    Object.keys(table).forEach(function (frequency) {
      var entry = table[frequency][currency];
      var box = tilesOf(frequency);
      if (!entry || !box) { return; }
      box.textContent = "";
      entry.amounts.forEach(function (pair, index) {
        var tile = document.createElement("span");
        tile.className = "tile";
        var input = document.createElement("input");
        input.type = "radio"; input.name = "amount"; input.value = frequency + ":" + pair[0];
        input.id = "amount-" + frequency + "-" + (index + 1);
        var label = document.createElement("label");
        label.htmlFor = input.id;
        label.textContent = pair[1];
        tile.appendChild(input); tile.appendChild(label);
        box.appendChild(tile);
      });
    });
    form.querySelector("[data-custom-currency]").textContent = currency;
  }

  // A ticked tile of another frequency would be sent unseen: tick this one's default instead.
  function tickDefault() {
    if (other.checked || typed()) { return; }
    var frequency = chosen("frequency");
    var box = tilesOf(frequency);
    if (!box || box.querySelector(":checked")) { return; }
    var entry = (table[frequency] || {})[form.currency.value];
    var tile = entry && box.querySelector("input[value='" + frequency + ":" + entry["default"] + "']");
    if (tile) { tile.checked = true; }
  }

  // The gift in words, or "" while it is not a valid amount.
  function giftText() {
    var currency = form.currency.value;
    if (other.checked || typed()) {
      var digits = digitsOf(currency);
      var minor = minorUnits(typed(), digits);
      if (!minor) { return ""; }
      var whole = minor % Math.pow(10, digits) === 0;
      return new Intl.NumberFormat(lang, {
        style: "currency", currency: currency,
        minimumFractionDigits: whole ? 0 : digits, maximumFractionDigits: whole ? 0 : digits
      }).format(minor / Math.pow(10, digits));
    }
    var box = tilesOf(chosen("frequency"));
    var tile = box && box.querySelector(":checked");
    return tile ? tile.nextElementSibling.textContent : "";
  }

  function sayGift() {
    var frequency = chosen("frequency");
    var gift = giftText();
    button.textContent = gift
      ? (words.amount[frequency] || "").replace("{amount}", gift)
      : (words.any[frequency] || "");
  }

  // The cover-the-fees label names the figure for the chosen amount (donations/fees.py does the
  // same sum on the server, and its figure is the one charged); while no valid amount is
  // chosen it gives the estimate in words, for the chosen currency.
  function showFee() {
    if (!rules || !feeLabel) { return; }
    var currency = form.currency.value;
    var digits = rules.exponent[currency];
    var choice = chosen("amount").replace(/^[a-z_]+:/, "");  // a tile is "month:10"
    var gift = minorUnits(choice === "other" || typed() ? typedBox.value : choice, digits === undefined ? 2 : digits);
    if (!gift || digits === undefined) {
      feeLabel.textContent = rules.label.replace("{fee}", rules.words[currency] || "");
      return;
    }
    var total = Math.ceil((gift + (rules.fixed[currency] || 0)) * 10000 / (10000 - rules.points));
    var fee = (total - gift) / Math.pow(10, digits);
    var shown = new Intl.NumberFormat(lang, { style: "currency", currency: currency }).format(fee);
    feeLabel.textContent = rules.label.replace("{fee}", shown);
  }

  function update() { sayGift(); showFee(); }

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "currency") { redrawTiles(); }
    if (name === "frequency" || name === "currency") { tickDefault(); }
    // Picking a suggestion clears the typed amount, which would otherwise win on the server.
    if (name === "amount" && event.target.value !== "other") { typedBox.value = ""; }
    update();
  });
  typedBox.addEventListener("input", function () { other.checked = true; update(); });
  update();
})();
