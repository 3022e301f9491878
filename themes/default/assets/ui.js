// Progressive enhancement only: every page works without it.
(function () {
  'use strict';
  var base = document.body.getAttribute('data-base') || '/ui';

  document.addEventListener('submit', function (e) {
    var submitter = e.submitter;
    var message = (submitter && submitter.getAttribute('data-confirm')) || null;
    if (message && !window.confirm(message)) e.preventDefault();
  });

  // Menu groups: Escape closes the open one (focus back on its title), a click elsewhere closes it.
  var openMenus = function () { return document.querySelectorAll('nav.modules details[open]'); };
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') return;
    openMenus().forEach(function (menu) {
      menu.open = false;
      if (menu.contains(document.activeElement)) menu.querySelector('summary').focus();
    });
  });
  document.addEventListener('click', function (e) {
    openMenus().forEach(function (menu) { if (!menu.contains(e.target)) menu.open = false; });
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
  // Workflow builder: a choice that changes what a row offers (module, action type, recipient) updates
  // the form through the server without saving; a condition's or action field's operators, value
  // types and value input follow its field here, from the fields the page embeds; SendSMS previews
  // its text and segment count as it is typed.
  document.querySelectorAll('form[data-wf-builder]').forEach(function (form) {
    document.documentElement.classList.add('js');
    var schemaHost = form.querySelector('[data-wf-schema]');
    var schema = schemaHost ? JSON.parse(schemaHost.getAttribute('data-wf-schema')) : null;
    var refresh = form.querySelector('[data-wf-refresh]');
    var focusInput = form.querySelector('input[name="_focus"]');
    var csrf = form.querySelector('input[name="csrf"]').value;

    var focusName = form.getAttribute('data-focus');
    if (focusName) {
      var target = form.querySelector('[name="' + CSS.escape(focusName) + '"]');
      if (target) { target.focus(); target.scrollIntoView({ block: 'center' }); }
    }

    function el(tag, attrs, text) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      if (text !== undefined) node.textContent = text;
      return node;
    }
    function fill(select, pairs, keep) {
      var current = keep === undefined ? select.value : keep;
      var chosen = Array.isArray(current) ? current : [current];
      select.textContent = '';
      pairs.forEach(function (p) {
        var option = el('option', { value: p[0] }, p[1]);
        if (chosen.indexOf(p[0]) >= 0) option.selected = true;
        select.appendChild(option);
      });
      if (!select.multiple && !pairs.some(function (p) { return chosen.indexOf(p[0]) >= 0; }) && pairs.length) select.selectedIndex = 0;
    }
    function moduleOf(row) {
      var path = row.querySelector('[data-wf-path]');
      if (path) { var option = path.options[path.selectedIndex]; return option ? option.getAttribute('data-module') : ''; }
      var host = row.closest('[data-module]');
      return host ? host.getAttribute('data-module') : '';
    }
    function fieldsOf(module) { return (schema && schema.modules[module]) || []; }
    function infoOf(module, name) {
      var list = fieldsOf(module);
      for (var i = 0; i < list.length; i++) if (list[i][0] === name) return { name: name, label: list[i][1], kind: list[i][2], options: list[i][3] };
      return { name: name, kind: 'string', options: '' };
    }
    function isDate(kind) { return kind === 'date' || kind === 'datetime'; }
    function operatorsFor(kind) {
      var allowed = ['Equal_To', 'Not_Equal_To'];
      if (['int', 'float', 'decimal', 'date', 'datetime', 'time'].indexOf(kind) >= 0) allowed = allowed.concat(['Greater_Than', 'Less_Than', 'Greater_Than_or_Equal_To', 'Less_Than_or_Equal_To']);
      if (kind === 'string' || kind === 'text') allowed = allowed.concat(['Contains', 'Starts_With', 'Ends_With']);
      allowed.push('is_null');
      return schema.operators.filter(function (p) { return allowed.indexOf(p[0]) >= 0; });
    }
    function typesFor(row, info) {
      if (row.getAttribute('data-wf-row') !== 'condition') return [['Value', 'Value'], ['Field', 'Field']].concat(isDate(info.kind) ? [['Date', 'Date']] : []);
      return schema.conditionTypes.filter(function (p) {
        return p[0] === 'Value' || p[0] === 'Field' || p[0] === 'Any_Change' || (p[0] === 'Date' && isDate(info.kind)) || (p[0] === 'Multi' && info.options);
      });
    }
    /** The same markup as the workflow-value partial. */
    function valueCell(prefix, info, type) {
      var cell = el('div', { class: 'field wf-value', 'data-wf-value': prefix });
      var choices = info.options ? (schema.dropdowns[info.options] || []) : null;
      function select(name, pairs, multiple) {
        cell.appendChild(el('label', { class: 'label', for: 'wf-' + name }, 'Value'));
        var s = el('select', { id: 'wf-' + name, name: name });
        if (multiple) { s.multiple = true; s.size = 4; }
        fill(s, pairs, multiple ? [] : '');
        cell.appendChild(s);
      }
      if (type === 'Any_Change') {
        cell.appendChild(el('span', { class: 'label' }, 'Value'));
        cell.appendChild(el('p', { class: 'hint' }, 'any change to the field'));
      } else if (type === 'Field') {
        select(prefix + '_value', [['', '']].concat(fieldsOf(schema.flow).map(function (f) { return [f[0], f[1]]; })));
      } else if (type === 'Date') {
        var box = el('fieldset', { class: 'wf-date' });
        box.appendChild(el('legend', { class: 'label' }, 'Value'));
        var base = el('select', { id: 'wf-' + prefix + '_date_base', name: prefix + '_date_base', 'aria-label': 'Date from' });
        fill(base, schema.dateBases, 'today');
        var op = el('select', { name: prefix + '_date_op', 'aria-label': 'Offset' });
        fill(op, schema.dateOps, 'now');
        var amount = el('input', { type: 'number', min: '0', step: '1', name: prefix + '_date_amount', 'aria-label': 'Amount' });
        var unit = el('select', { name: prefix + '_date_unit', 'aria-label': 'Unit' });
        fill(unit, [['', '']].concat(schema.dateUnits), '');
        [base, op, amount, unit].forEach(function (n) { box.appendChild(n); });
        cell.appendChild(box);
      } else if (type === 'Multi' || (type === 'Value' && info.kind === 'multienum' && choices)) {
        select(prefix + '_multi', choices || [], true);
      } else if (type === 'Value' && choices) {
        select(prefix + '_value', [['', '']].concat(choices));
      } else if (type === 'Value' && info.kind === 'bool') {
        select(prefix + '_value', [['', ''], ['1', 'Yes'], ['0', 'No']]);
      } else {
        var inputType = { int: 'number', float: 'number', decimal: 'number', date: 'date', datetime: 'datetime-local', time: 'time' }[info.kind] || 'text';
        cell.appendChild(el('label', { class: 'label', for: 'wf-' + prefix + '_value' }, 'Value'));
        var input = el('input', { id: 'wf-' + prefix + '_value', name: prefix + '_value', type: type === 'Value' ? inputType : 'text' });
        if (inputType === 'number') input.setAttribute('step', 'any');
        cell.appendChild(input);
      }
      return cell;
    }
    function retype(row, fieldChanged) {
      var prefix = row.getAttribute('data-prefix');
      var info = infoOf(moduleOf(row), row.querySelector('[data-wf-field]').value);
      var type = row.querySelector('[data-wf-type]');
      if (fieldChanged) {
        var operator = row.querySelector('[data-wf-operator]');
        if (operator) fill(operator, operatorsFor(info.kind));
        fill(type, typesFor(row, info));
      }
      var cell = row.querySelector('[data-wf-value="' + prefix + '"]');
      if (cell) cell.replaceWith(valueCell(prefix, info, type.value));
    }

    form.addEventListener('change', function (e) {
      var t = e.target;
      if (t.hasAttribute('data-refresh') && refresh) {
        focusInput.value = t.name;
        form.requestSubmit(refresh);
        return;
      }
      var row = t.closest('[data-wf-row="condition"], [data-wf-row="setter"]');
      if (!row || !schema) return;
      if (t.hasAttribute('data-wf-path')) {
        fill(row.querySelector('[data-wf-field]'), [['', '']].concat(fieldsOf(moduleOf(row)).map(function (f) { return [f[0], f[1]]; })), '');
        retype(row, true);
      } else if (t.hasAttribute('data-wf-field')) {
        retype(row, true);
      } else if (t.hasAttribute('data-wf-type')) {
        retype(row, false);
      }
    });

    form.querySelectorAll('[data-wf-sms]').forEach(function (box) {
      var text = box.querySelector('[data-wf-sms-text]');
      var template = box.querySelector('[data-wf-sms-template]');
      var preview = box.querySelector('[data-wf-sms-preview]');
      var count = box.querySelector('[data-wf-sms-count]');
      var problems = box.querySelector('[data-wf-sms-problems]');
      var timer = null;
      var seq = 0;
      function show(result) {
        problems.textContent = '';
        (result.problems || []).forEach(function (p) { problems.appendChild(el('li', {}, p)); });
        preview.textContent = result.body || '';
        count.textContent = result.body ? [result.encoding, result.segmentsLabel, result.characters + ' characters'].join(' · ') : '';
      }
      function update() {
        var mine = ++seq;
        fetch(form.getAttribute('data-preview'), {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ csrf: csrf, template_id: template.value, text: text.value, module: box.getAttribute('data-module') })
        }).then(function (r) { return r.json(); }).then(function (result) { if (mine === seq) show(result); }).catch(function () { count.textContent = ''; });
      }
      function later() { clearTimeout(timer); timer = setTimeout(update, 200); }
      text.addEventListener('input', later);
      template.addEventListener('change', later);
    });
  });
  // A send to many in the background: follow its progress until it ends, then show the final page.
  var sendStatus = document.querySelector('[data-sms-send-status][data-sms-send-running]');
  if (sendStatus) {
    var pollSend = function () {
      fetch(sendStatus.getAttribute('data-sms-send-status'), { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (s) {
        sendStatus.querySelector('[data-sms-send-progress]').value = s.done;
        sendStatus.querySelector('[data-sms-send-done]').textContent = s.done;
        ['queued', 'refused'].forEach(function (k) { sendStatus.querySelector('[data-count="' + k + '"]').textContent = s[k]; });
        if (s.state === 'queued' || s.state === 'sending') setTimeout(pollSend, 1000);
        else window.location.reload();
      }).catch(function () { setTimeout(pollSend, 3000); });
    };
    setTimeout(pollSend, 1000);
  }
})();
