// Connect: check the API key with Iterable without saving and without leaving
// the page (the key stays typed in); the answer appears under the button, and
// a refusal marks its field. Without this script the button submits the form.
(function () {
  var button = document.getElementById("connect");
  var result = document.getElementById("connect-result");
  if (!button || !result) { return; }
  var form = button.form;
  function mark(field) {
    ["api_key", "region", "base_url"].forEach(function (name) {
      var input = document.getElementById(name);
      if (!input) { return; }
      if (name === field) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", "connect-result");
      } else if (input.getAttribute("aria-describedby") === "connect-result") {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      }
    });
  }
  button.addEventListener("click", function (event) {
    event.preventDefault();
    button.disabled = true;
    result.className = "";
    result.textContent = "…";
    fetch(button.getAttribute("formaction"), {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (answer) {
      return answer.json();
    }).then(function (body) {
      result.className = body.ok ? "ok" : "error";
      result.textContent = body.message;
      mark(body.ok ? null : body.field);
    }).catch(function () {
      result.className = "error";
      result.textContent = button.getAttribute("data-failed") || "";
    }).finally(function () {
      button.disabled = false;
    });
  });
}());
