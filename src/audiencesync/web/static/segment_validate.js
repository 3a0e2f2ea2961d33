// Add / Edit segment: shows the chosen way of defining it (rule builder or SQL
// condition), and checks the definition as it is typed. After a pause, it asks
// POST /api/v1/segments/validate (the session cookie, and the page's CSRF token
// in X-CSRF-Token) and says "Valid: N members" or the error next to the field
// (aria-live). Nothing is saved by checking. No dependency, no build step.
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  if (!form) { return; }
  var words = JSON.parse(document.getElementById("builder-words").textContent);
  var token = document.querySelector('meta[name="csrf-token"]');
  var lang = document.documentElement.lang || "en";
  var where = document.getElementById("where");
  var rules = document.getElementById("rules");
  var parts = { rules: document.getElementById("rules-part"), where: document.getElementById("where-part") };
  var statuses = { rules: document.getElementById("rules-status"), where: document.getElementById("where-status") };
  var fields = { rules: null, where: where };
  var DELAY_MS = 400;
  var timer = null;
  var asked = 0;
  var pending = null;

  function kind() {
    var chosen = form.querySelector('input[name="kind"]:checked');
    return chosen ? chosen.value : "rules";
  }
  function show() {
    var current = kind();
    Object.keys(parts).forEach(function (name) { parts[name].hidden = name !== current; });
  }
  function say(which, message, bad) {
    Object.keys(statuses).forEach(function (name) {
      if (name !== which) {
        statuses[name].textContent = "";
        if (fields[name]) { fields[name].removeAttribute("aria-invalid"); }
      }
    });
    statuses[which].textContent = message;
    statuses[which].classList.toggle("error", !!bad);
    statuses[which].classList.toggle("valid", !bad && message !== "" && message !== words.checking);
    if (!fields[which]) { return; }
    if (bad) { fields[which].setAttribute("aria-invalid", "true"); }
    else { fields[which].removeAttribute("aria-invalid"); }
  }
  function counted(count) {
    var one = lang === "fr" ? count <= 1 : count === 1;
    var shown = new Intl.NumberFormat(lang).format(count);
    return (one ? words.valid_one : words.valid_other).replace("{count}", shown);
  }
  function check() {
    var which = kind();
    var body;
    if (which === "where") {
      if (!where.value.trim()) { say("where", "", false); return; }
      body = { where: where.value };
    } else {
      if (!rules.value.trim()) { say("rules", words.empty, false); return; }
      try { body = { rules: JSON.parse(rules.value) }; } catch (error) { return; }
    }
    asked += 1;
    var mine = asked;
    if (pending) { pending.abort(); }
    pending = new AbortController();
    say(which, words.checking, false);
    fetch("/api/v1/segments/validate", {
      method: "POST",
      credentials: "same-origin",
      signal: pending.signal,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token ? token.content : "" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (answer) {
      if (mine !== asked) { return; }
      var data = answer.data;
      if (answer.ok && data.valid) { say(which, counted(data.member_count), false); }
      else if (answer.ok) { say(which, data.message, true); }
      else { say(which, (data.error && data.error.message) || words.failed, true); }
    }).catch(function (error) {
      if (error && error.name === "AbortError") { return; }
      if (mine === asked) { say(which, words.failed, true); }
    });
  }
  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, DELAY_MS);
  }

  form.querySelectorAll('input[name="kind"]').forEach(function (radio) {
    radio.addEventListener("change", function () { show(); later(); });
  });
  where.addEventListener("input", later);
  form.addEventListener("rules-changed", later);
  show();
  var serverSaid = statuses.rules.textContent.trim() || statuses.where.textContent.trim();
  if (!serverSaid) { later(); }
}());
