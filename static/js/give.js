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

  form.addEventListener("change", function (event) {
    if (event.target.name === "frequency" || event.target.name === "currency") { redraw(); }
    if (event.target.name === "custom_amount") { form.querySelector("#amount-other").checked = true; }
    // Picking a suggestion clears the typed amount, which would otherwise win on the server.
    if (event.target.name === "amount" && event.target.value !== "other") { form.custom_amount.value = ""; }
  });
  form.custom_amount.addEventListener("input", function () { form.querySelector("#amount-other").checked = true; });
})();
