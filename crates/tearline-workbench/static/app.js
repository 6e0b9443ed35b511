// Tearline workbench: refreshes the preview while a report is edited.
// Every page works without this script; the "Save and preview" button
// does the same on the server.
(function () {
  "use strict";
  var body = document.getElementById("body");
  var pane = document.getElementById("preview");
  var note = document.getElementById("live-note");
  var issue = document.getElementById("issue-button");
  if (!body || !pane) return;
  var saved = body.value;
  var timer = null;
  var seq = 0;
  function refresh() {
    var mine = ++seq;
    var form = new URLSearchParams();
    form.append("csrf", body.form.elements.csrf.value);
    form.append("body", body.value);
    fetch("/ui/preview", { method: "POST", body: form, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (mine !== seq) return;
        pane.innerHTML = html;
        var changed = body.value !== saved;
        if (note) note.textContent = changed ? "Preview of unsaved text: save before issuing." : "";
        if (issue) issue.disabled = changed;
      })
      .catch(function () { if (note) note.textContent = "The preview could not be refreshed; save to see it."; });
  }
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
})();
