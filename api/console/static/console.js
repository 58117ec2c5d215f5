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

    // A file form (data-upload-progress) shows how much of the file has gone up, then that the
    // server is checking and storing it; the page the server answers replaces this one, as a
    // plain submission would. Without scripts the form still submits the ordinary way.
    document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.FormData || !window.XMLHttpRequest) { return; }
        event.preventDefault();
        var status = form.querySelector(".upload-progress");
        if (!status) {
          status = document.createElement("div");
          status.className = "upload-progress";
          status.setAttribute("role", "status");
          status.innerHTML = '<progress max="100"></progress> <span></span>';
          form.appendChild(status);
        }
        var bar = status.querySelector("progress");
        var text = status.querySelector("span");
        var button = form.querySelector("button[type=submit], button:not([type])");
        if (button) { button.disabled = true; }
        text.textContent = "正在上传…";
        var request = new XMLHttpRequest();
        // getAttribute: a control named "action" (预检) shadows form.action
        request.open("POST", form.getAttribute("action") || window.location.href);
        request.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable) {
            bar.value = Math.round(e.loaded * 100 / e.total);
            text.textContent = "已上传 " + bar.value + "%";
          }
        });
        request.upload.addEventListener("load", function () {
          bar.removeAttribute("value");  // indeterminate: the server is working
          text.textContent = form.getAttribute("data-upload-progress") || "正在处理，请稍候…";
        });
        request.addEventListener("load", function () {
          if (request.responseURL) { window.history.replaceState(null, "", request.responseURL); }
          document.open();
          document.write(request.responseText);
          document.close();
        });
        request.addEventListener("error", function () {
          if (button) { button.disabled = false; }
          bar.value = 0;
          text.textContent = "上传中断，请检查网络后重试。";
        });
        var data = new FormData(form);
        var via = event.submitter;  // the button pressed, when it says what to do (预检 …)
        if (via && via.name) { data.append(via.name, via.value); }
        request.send(data);
      });
    });

    // Ask before actions that cannot be undone.
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
