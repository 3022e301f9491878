// Progressive enhancement only: every page works without it.
(function () {
  'use strict';
  var base = document.body.getAttribute('data-base') || '/ui';

  document.addEventListener('submit', function (e) {
    var submitter = e.submitter;
    var message = (submitter && submitter.getAttribute('data-confirm')) || null;
    if (message && !window.confirm(message)) e.preventDefault();
  });

  // Select all rows.
  document.querySelectorAll('[data-select-all]').forEach(function (box) {
    box.addEventListener('change', function () {
      box.closest('form').querySelectorAll('input[name="ids"]').forEach(function (row) { row.checked = box.checked; });
    });
  });

  // Column chooser: the checked boxes become one "columns" parameter, the current search is kept.
  document.querySelectorAll('form[data-columns]').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var cols = Array.prototype.map.call(form.querySelectorAll('input[name="col"]:checked'), function (c) { return c.value; });
      var url = new URL(window.location.href);
      url.searchParams.set('columns', cols.join(','));
      url.searchParams.delete('offset');
      window.location.href = url.toString();
    });
  });

  // Relate type-ahead: suggestions from the same session, the chosen id goes to the hidden input.
  document.querySelectorAll('[data-relate-search]').forEach(function (input) {
    var wrap = input.parentElement;
    var hidden = wrap.querySelector('[data-relate-id]') || (input.form && input.form.querySelector('[data-relate-id]'));
    var list = document.createElement('ul');
    list.className = 'suggestions';
    list.setAttribute('role', 'listbox');
    list.id = 'sugg-' + Math.random().toString(36).slice(2);
    list.hidden = true;
    wrap.appendChild(list);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('aria-expanded', 'false');
    var timer = null;
    var active = -1;
    function module() {
      if (input.hasAttribute('data-relate-follow')) {
        var select = wrap.querySelector('[data-parent-type]');
        return select ? select.value : input.getAttribute('data-relate-search');
      }
      return input.getAttribute('data-relate-search');
    }
    function close() { list.hidden = true; input.setAttribute('aria-expanded', 'false'); active = -1; }
    function choose(li) {
      input.value = li.textContent;
      if (hidden) hidden.value = li.getAttribute('data-id');
      close();
    }
    input.addEventListener('input', function () {
      if (hidden) hidden.value = '';
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(function () {
        fetch(base + '/api/search/' + encodeURIComponent(module()) + '?q=' + encodeURIComponent(q), { credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.textContent = '';
            items.forEach(function (item, i) {
              var li = document.createElement('li');
              li.setAttribute('role', 'option');
              li.id = list.id + '-' + i;
              li.setAttribute('data-id', item.id);
              li.textContent = item.name;
              li.addEventListener('mousedown', function (ev) { ev.preventDefault(); choose(li); });
              list.appendChild(li);
            });
            list.hidden = items.length === 0;
            input.setAttribute('aria-expanded', String(items.length > 0));
          });
      }, 150);
    });
    input.addEventListener('keydown', function (e) {
      var items = list.querySelectorAll('li');
      if (list.hidden || !items.length) return;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = (active + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
        items.forEach(function (li, i) { li.setAttribute('aria-selected', String(i === active)); });
        input.setAttribute('aria-activedescendant', items[active].id);
      } else if (e.key === 'Enter' && active >= 0) {
        e.preventDefault();
        choose(items[active]);
      } else if (e.key === 'Escape') {
        close();
      }
    });
    input.addEventListener('blur', function () { setTimeout(close, 100); });
  });

  // SMS compose: live encoding, segment count, characters left, UCS-2 warning and the rendered text
  // for the first recipient, from the server (the same code that sends).
  document.querySelectorAll('form[data-sms-compose]').forEach(function (form) {
    var counter = form.querySelector('[data-sms-counter]');
    var warning = form.querySelector('[data-sms-warning]');
    var preview = form.querySelector('[data-sms-preview]');
    var refused = form.querySelector('[data-sms-refused]');
    var body = form.querySelector('textarea[name="body"]');
    var template = form.querySelector('select[name="template_id"]');
    var timer = null;
    var seq = 0;
    function fields() {
      var out = {};
      new FormData(form).forEach(function (value, key) {
        if (key === 'csrf') return;
        if (out[key] === undefined) out[key] = value;
        else if (Array.isArray(out[key])) out[key].push(value);
        else out[key] = [out[key], value];
      });
      return out;
    }
    function text(el, value) { el.textContent = value; }
    function show(result) {
      refused.innerHTML = '';
      if (result.empty) { text(counter, 'GSM-7 · 0 segments · 160 characters left · 0 / 1600'); warning.hidden = true; text(preview, ''); return; }
      if (result.problems) {
        text(counter, '');
        warning.hidden = false;
        text(warning, result.problems.map(function (p) { return p.field + ': ' + p.message; }).join('; '));
        return;
      }
      var first = result.first;
      (result.refused || []).slice(0, 10).forEach(function (r) {
        var li = document.createElement('li');
        text(li, (r.to || (r.module + ' ' + r.id)) + ': ' + r.reason);
        refused.appendChild(li);
      });
      if (!first) { text(counter, 'No recipient can receive this message.'); warning.hidden = true; text(preview, ''); return; }
      var parts = [first.encoding, first.segments + (first.segments === 1 ? ' segment' : ' segments'), first.charactersLeft + ' characters left', first.characters + ' / 1600'];
      if (result.recipients > 1) parts.push(result.recipients + ' recipients, ' + result.segments_total + ' segments in all');
      text(counter, parts.join(' · '));
      if (first.encoding === 'UCS-2') {
        warning.hidden = false;
        text(warning, 'Unicode (UCS-2): 70 characters per segment instead of 160, because of ' + first.unicodeCharacters.join(' ') + '. Replace them to send a cheaper GSM-7 message.');
      } else {
        warning.hidden = true;
      }
      text(preview, first.body);
    }
    function update() {
      if (template && body) body.disabled = template.value !== '';
      var mine = ++seq;
      fetch(form.getAttribute('data-preview'), {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ csrf: form.querySelector('input[name="csrf"]').value, fields: fields() })
      }).then(function (r) { return r.json(); }).then(function (result) { if (mine === seq) show(result); }).catch(function () { text(counter, ''); });
    }
    function later() { clearTimeout(timer); timer = setTimeout(update, 200); }
    form.addEventListener('input', later);
    form.addEventListener('change', later);
    update();
  });
})();
