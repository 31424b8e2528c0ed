// Progressive enhancement only; everything works without JavaScript.
// 1. Reveal "Copy" buttons and copy the key they point at (without JS the key is still shown in a
//    read-only field to select and copy by hand).
// 2. After a form post rendered the page (a new API key), show the page's own address, so reloading
//    asks for the page instead of posting the form again.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = "Copied";
      }, function () {
        field.select();
        button.textContent = "Press Ctrl+C to copy";
      });
    });
  });
  var main = document.querySelector("main[data-canonical-url]");
  if (main && window.history && window.location.pathname !== main.getAttribute("data-canonical-url")) {
    window.history.replaceState(null, "", main.getAttribute("data-canonical-url"));
  }
});
