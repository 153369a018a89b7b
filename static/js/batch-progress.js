// Poll a certificate batch's progress every two seconds while it runs.
(function () {
  "use strict";
  var box = document.getElementById("batch-progress");
  if (!box) {
    return;
  }
  var finished = ["done", "cancelled"];
  if (finished.indexOf(box.dataset.status) !== -1) {
    return;
  }
  var bar = box.querySelector("progress");

  function update(data) {
    ["done", "total", "issued", "existing", "revoked", "failed"].forEach(function (name) {
      var field = box.querySelector('[data-field="' + name + '"]');
      if (field) {
        field.textContent = data[name];
      }
    });
    bar.max = data.total;
    bar.value = data.done;
    if (finished.indexOf(data.status) !== -1) {
      window.location.reload();
    }
  }

  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) {
          update(data);
        }
        if (!data || finished.indexOf(data.status) === -1) {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, 2000);
})();
