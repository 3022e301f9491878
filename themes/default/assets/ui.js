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
})();
