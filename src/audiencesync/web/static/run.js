// Follows a run on its page: server-sent events update the status and each
// segment's sent / planned, rate and time left; at the end the page reloads
// once to show the final counts and the rejects.
(function () {
  var script = document.currentScript;
  var run = script.getAttribute("data-run");
  var perSecond = script.getAttribute("data-per-second");
  var words = JSON.parse(document.getElementById("status-words").textContent);
  function word(status) { return words[status] || status; }
  var source = new EventSource("/runs/" + run + "/live");
  function show(view) {
    document.getElementById("run-status").textContent = word(view.status);
    view.segments.forEach(function (part) {
      var row = document.querySelector('tr[data-segment="' + CSS.escape(part.segment) + '"]');
      if (!row) { return; }
      row.querySelector(".status").textContent = word(part.status);
      row.querySelector(".sent").textContent = part.sent.toLocaleString() + " / " + part.planned.toLocaleString();
      row.querySelector(".rate").textContent = part.rate_per_second === null ? "—" : Math.round(part.rate_per_second).toLocaleString() + perSecond;
      row.querySelector(".eta").textContent = part.eta_seconds === null ? "—" : part.eta_seconds + " s";
    });
  }
  source.addEventListener("progress", function (event) { show(JSON.parse(event.data)); });
  source.addEventListener("end", function (event) {
    show(JSON.parse(event.data));
    source.close();
    window.location.reload();
  });
}());
