// Progressive enhancement only: reveal "Copy" buttons and copy the key they point at.
// Without JavaScript the key is still shown in a read-only field to select and copy by hand.
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
});
