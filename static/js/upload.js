// Drag-and-drop upload with a progress bar: the form is sent by XHR (upload progress events), then the
// browser goes to the live submission page. Without JavaScript the same form posts normally.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const zone = document.getElementById("dropzone");
  const input = form.querySelector("input[type=file][name=archive]");
  const chosen = document.getElementById("chosen-file");
  const box = document.getElementById("upload-progress");
  const bar = document.getElementById("upload-bar");
  const text = document.getElementById("upload-text");
  const errorBox = document.getElementById("upload-error");
  const button = document.getElementById("upload-button");
  const maxBytes = Number(zone.dataset.maxBytes || 0);

  function formatBytes(n) {
    const units = ["bytes", "KiB", "MiB", "GiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }
  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }
  function describe() {
    const file = input.files[0];
    errorBox.hidden = true;
    if (!file) { chosen.textContent = ""; return; }
    chosen.textContent = file.name + " (" + formatBytes(file.size) + ")";
    if (!/\.(zip|tar\.gz|tgz)$/i.test(file.name)) showError('"' + file.name + '" is not a .zip or .tar.gz archive.');
    else if (maxBytes && file.size > maxBytes) showError('"' + file.name + '" is larger than the limit of ' + formatBytes(maxBytes) + ".");
  }

  input.addEventListener("change", describe);
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      describe();
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const file = input.files[0];
    if (!file) { showError("Choose an archive first (drop it on the box or click it)."); return; }
    if (maxBytes && file.size > maxBytes) { describe(); return; }
    errorBox.hidden = true;
    button.disabled = true;
    box.hidden = false;
    bar.value = 0;
    text.textContent = "Uploading " + file.name + "…";
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      bar.value = Math.round((100 * e.loaded) / e.total);
      text.textContent = bar.value + "% · " + formatBytes(e.loaded) + " of " + formatBytes(e.total);
    });
    xhr.addEventListener("load", function () {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = {}; }
      if (xhr.status === 201 && body.url) {
        bar.value = 100;
        text.textContent = "Uploaded. Opening the submission…";
        window.location.assign(body.url);
        return;
      }
      button.disabled = false;
      box.hidden = true;
      showError(body.message || ("The upload was refused (HTTP " + xhr.status + ")."));
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      box.hidden = true;
      showError("The connection broke during the upload. Try again, or use the msav command line, which resumes.");
    });
    xhr.send(new FormData(form));
  });
})();
