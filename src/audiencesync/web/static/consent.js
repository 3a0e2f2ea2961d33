// Save stays disabled until "I agree" is ticked (the server refuses anyway).
(function () {
  var agree = document.getElementById("i_agree");
  var save = document.getElementById("save");
  if (!agree || !save) { return; }
  function follow() { save.disabled = !agree.checked; }
  agree.addEventListener("change", follow);
  follow();
}());
