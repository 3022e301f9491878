// Import pages: read the chosen file as bytes (the server finds its encoding), and follow a running import.
(function () {
  'use strict';
  var upload = document.querySelector('[data-import-upload]');
  if (upload) {
    var input = upload.querySelector('[data-import-file]');
    input.addEventListener('change', function () {
      var file = input.files && input.files[0];
      if (!file) return;
      var reader = new FileReader();
      reader.onload = function () {
        var bytes = new Uint8Array(reader.result);
        var binary = '';
        for (var i = 0; i < bytes.length; i += 32768) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
        upload.querySelector('[data-import-file-data]').value = btoa(binary);
        upload.querySelector('[data-import-file-name]').value = file.name;
      };
      reader.readAsArrayBuffer(file);
    });
  }
  var status = document.querySelector('[data-import-status][data-import-running]');
  if (status) {
    var poll = function () {
      fetch(status.getAttribute('data-import-status'), { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (s) {
        status.querySelector('[data-import-progress]').value = s.progress;
        status.querySelector('[data-import-rows]').textContent = s.rows;
        ['created', 'updated', 'skipped', 'refused'].forEach(function (k) { status.querySelector('[data-count="' + k + '"]').textContent = s[k]; });
        if (s.state === 'queued' || s.state === 'running') setTimeout(poll, 1000);
        else window.location.reload();
      }).catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 1000);
  }
})();
