// A custom cron schedule, previewed as it is typed: the schedule in words and its
// next three runs in the chosen time zone, from GET /api/v1/schedule/preview (the
// page's session cookie signs the request in). Without JavaScript nothing shows
// and the form works the same: the server checks the schedule when it is saved.
(function () {
  var script = document.currentScript;
  var lang = script.getAttribute("data-lang") || "en";
  var out = document.getElementById("cron-preview");
  var cron = document.getElementById("cron");
  var zone = document.getElementById("timezone");
  if (!out || !cron || !zone) { return; }
  var form = cron.form;
  var asked = 0;
  var timer = null;

  function custom() {
    var chosen = form && form.querySelector('input[name="schedule"]:checked');
    var radios = form && form.querySelector('input[name="schedule"]');
    return !radios || (chosen !== null && chosen.value === "cron");
  }

  function clear() {
    out.hidden = true;
    out.textContent = "";
  }

  function element(tag, text, className) {
    var made = document.createElement(tag);
    if (text) { made.textContent = text; }
    if (className) { made.className = className; }
    return made;
  }

  function show(view) {
    out.textContent = "";
    out.appendChild(element("p", view.description, "preview-text"));
    out.appendChild(element("p", out.getAttribute("data-heading"), "hint"));
    var list = element("ol");
    view.next_runs_text.forEach(function (text, index) {
      var item = element("li");
      var time = element("time", text);
      time.setAttribute("datetime", view.next_runs[index]);
      item.appendChild(time);
      list.appendChild(item);
    });
    out.appendChild(list);
    out.hidden = false;
  }

  function refuse(body) {
    var message = body && body.error ? body.error.message : "";
    out.textContent = "";
    out.appendChild(element("p", out.getAttribute("data-invalid") + " " + message, "error"));
    out.hidden = false;
  }

  function update() {
    var expression = cron.value.trim();
    if (!custom() || expression === "") { clear(); return; }
    var query = new URLSearchParams({
      cron: expression, timezone: zone.value.trim() || "UTC", lang: lang
    });
    var mine = ++asked;
    fetch("/api/v1/schedule/preview?" + query.toString(), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (answer) {
      return answer.json().then(function (body) { return [answer.status, body]; });
    }).then(function (result) {
      if (mine !== asked) { return; }  // a newer request is on its way
      if (result[0] === 200) { show(result[1]); }
      else if (result[0] === 422) { refuse(result[1]); }
      else { clear(); }
    }).catch(function () { if (mine === asked) { clear(); } });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  }

  cron.addEventListener("input", later);
  zone.addEventListener("input", later);
  if (form) {
    form.querySelectorAll('input[name="schedule"]').forEach(function (radio) {
      radio.addEventListener("change", update);
    });
  }
  update();
}());
