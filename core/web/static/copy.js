// Progressive enhancement only; everything works without JavaScript.
// 1. Reveal "Copy" buttons and copy the value they point at (without JS the value is still shown in a
//    read-only field to select and copy by hand).
// 2. After a form post rendered the page (a new API key), show the page's own address, so reloading
//    asks for the page instead of posting the form again.
// 3. Move focus to what the creator's last action produced (the message, or the new key), so screen
//    readers read it and the page does not jump elsewhere.
// 4. While a form is being sent, its buttons are disabled (no second offer from a double click) and
//    say so; they come back when the browser restores the page from its history.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field || !navigator.clipboard) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 4000);
      }, function () {
        field.select();
        button.textContent = "Press Ctrl+C to copy";
      });
    });
  });

  var main = document.querySelector("[data-canonical-url]");
  if (main && window.history && window.location.pathname !== main.getAttribute("data-canonical-url")) {
    window.history.replaceState(null, "", main.getAttribute("data-canonical-url"));
  }

  var outcome = document.getElementById("new-key") || document.getElementById("flash");
  if (outcome) {
    outcome.focus({ preventScroll: true });
    var bringIntoView = function () {
      var box = outcome.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight) { outcome.scrollIntoView({ block: "start" }); }
    };
    bringIntoView();
    window.addEventListener("load", bringIntoView);  // again once the layout is final
  }

  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-submitting") === "yes") { event.preventDefault(); return; }
      form.setAttribute("data-submitting", "yes");
      var buttons = form.querySelectorAll("button[type=submit]");
      // After this task: the browser has already taken the pressed button's name and value.
      setTimeout(function () {
        buttons.forEach(function (button) {
          button.disabled = true;
          var busy = button.getAttribute("data-busy-label");
          if (busy) { button.setAttribute("data-label", button.textContent); button.textContent = busy; }
        });
      }, 0);
    });
  });
});

window.addEventListener("pageshow", function (event) {
  if (!event.persisted) { return; }
  document.querySelectorAll("form[data-submitting]").forEach(function (form) {
    form.removeAttribute("data-submitting");
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = false;
      if (button.getAttribute("data-label")) { button.textContent = button.getAttribute("data-label"); }
    });
  });
});
