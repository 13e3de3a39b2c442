/* The leaderboard page without a framework: it works without this script (links and a GET form);
   with it, a filter applies as soon as it changes, and the BibTeX can be copied with one button. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("filters");
    if (form) {
      form.querySelectorAll("select").forEach(function (select) {
        select.addEventListener("change", function () {
          // Leave empty parameters out, so the permalink stays short and canonical.
          form.querySelectorAll("select, input[type=hidden]").forEach(function (field) { field.disabled = !field.value; });
          form.submit();
        });
      });
    }
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.querySelector(button.dataset.copy);
      if (!source || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent).then(function () { button.textContent = "Copied"; });
      });
    });
  });
})();
