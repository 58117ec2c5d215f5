// Small progressive touches; every page works without them.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // After a refused submission, take keyboard and screen-reader focus to the list of errors.
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }

    // Scroll the diagram to the current step (or, for a finished matter, to where it ended).
    var figure = document.querySelector(".diagram");
    var current = figure && (figure.querySelector("[data-element-id].bpmn-current") ||
      figure.querySelector(".bpmn-endEvent.bpmn-done"));
    if (current) {
      var box = current.getBoundingClientRect();
      var frame = figure.getBoundingClientRect();
      figure.scrollLeft += box.left - frame.left - frame.width / 2 + box.width / 2;
      figure.scrollTop += box.top - frame.top - frame.height / 2 + box.height / 2;
    }

    // Show the revised application only when "resubmit" is chosen (the server ignores it otherwise).
    var group = document.querySelector('fieldset[data-field="application"]');
    var choices = document.querySelectorAll('input[name="action"]');
    function sync() {
      var chosen = document.querySelector('input[name="action"]:checked');
      group.hidden = !!chosen && chosen.value !== "resubmit";
    }
    if (group && choices.length) {
      choices.forEach(function (input) { input.addEventListener("change", sync); });
      sync();
    }

    // Ask before actions that cannot be undone.
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
