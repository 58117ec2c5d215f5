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

    // Fields that only apply to one answer of another field (data-shown-when="field=a|b") are
    // hidden, and not sent, otherwise; a field the server found an error in always shows.
    document.querySelectorAll("[data-shown-when]").forEach(function (box) {
      var spec = box.getAttribute("data-shown-when");
      var split = spec.indexOf("=");
      var name = spec.slice(0, split);
      var wanted = spec.slice(split + 1).split("|");
      var form = box.closest("form");
      var controls = form ? form.querySelectorAll('[name="' + name.replace(/"/g, '\\"') + '"]') : [];
      if (!controls.length) { return; }
      function chosen() {
        for (var i = 0; i < controls.length; i++) {
          var c = controls[i];
          if ((c.type === "radio" || c.type === "checkbox") ? c.checked : c.value) { return c.value; }
        }
        return "";
      }
      function sync() {
        var show = wanted.indexOf(chosen()) >= 0 || box.classList.contains("has-error");
        box.hidden = !show;
        box.querySelectorAll("input, textarea, select").forEach(function (input) {
          input.disabled = !show;
        });
      }
      controls.forEach(function (c) { c.addEventListener("change", sync); });
      sync();
    });

    // Ask before actions that cannot be undone.
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
