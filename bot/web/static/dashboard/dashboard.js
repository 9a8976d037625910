/* ATTN's teacher dashboard: courses → a course's table (sortable, filterable; a status is a
   letter and a colour) → a cell's correction sheet or a student's page; the excuse queue,
   roster import and claims, the timetable (changed with the same service as /timetable), report
   downloads and a chart drawn here with uPlot (served from this server).
   Authentication is Telegram's initData, sent as `Authorization: tma <initData>` on every
   request (no cookies); the server checks the course permission on each one. Texts come from
   the server's catalog in the user's language; user data is only ever set as text. */
(function () {
  'use strict';

  var tg = (window.Telegram && window.Telegram.WebApp) || null;
  var initData = (tg && tg.initData) || '';
  var API = '/app/api/teacher';
  var LETTERS = ['P', 'L', 'E', 'A'];
  var STATUS_OF = { P: 'present', L: 'late', E: 'excused', A: 'absent', '-': 'none' };
  var THEME = {
    bg_color: '--tg-theme-bg-color',
    text_color: '--tg-theme-text-color',
    hint_color: '--tg-theme-hint-color',
    link_color: '--tg-theme-link-color',
    button_color: '--tg-theme-button-color',
    button_text_color: '--tg-theme-button-text-color',
    secondary_bg_color: '--tg-theme-secondary-bg-color',
    destructive_text_color: '--tg-theme-destructive-text-color'
  };
  var texts = {};
  var language = 'en';
  var course = null;      // {id, name, may: [...]}
  var table = null;       // the table's JSON
  var sort = { key: 'name', dir: 1 };
  var chart = null;
  var editing = null;     // {row, column}
  var studentId = null;

  function $(id) { return document.getElementById(id); }
  function text(key) { return texts[key] || key; }
  function el(tag, attrs, content) {
    var node = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); }); }
    if (content !== undefined && content !== null) { node.textContent = String(content); }
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function letterText(letter) { return text('letter.' + STATUS_OF[letter]); }
  function statusText(letter) { return text('status.' + STATUS_OF[letter]); }
  function day(iso) {
    try {
      return new Date(iso).toLocaleDateString(language, { day: 'numeric', month: 'short' });
    } catch (e) { return iso.slice(0, 10); }
  }
  function when(iso) {
    try {
      return new Date(iso).toLocaleString(language, {
        day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit'
      });
    } catch (e) { return iso; }
  }
  function may(permission) { return course && course.may.indexOf(permission) >= 0; }

  function say(message, isError) {
    var box = $('status');
    box.className = 'status' + (isError ? ' error' : '');
    box.textContent = message || '';
  }

  function applyTheme() {
    var root = document.documentElement;
    var params = (tg && tg.themeParams) || {};
    Object.keys(THEME).forEach(function (key) {
      if (params[key]) { root.style.setProperty(THEME[key], params[key]); }
    });
    if (tg && tg.colorScheme) { root.style.colorScheme = tg.colorScheme; }
  }

  function request(method, path, body, type) {
    var options = {
      method: method,
      // The page's language, for the server's messages about refused input.
      headers: { 'Authorization': 'tma ' + initData, 'Accept-Language': language },
      credentials: 'omit',
      cache: 'no-store'
    };
    if (body !== undefined) {
      options.headers['Content-Type'] = type || 'application/json';
      options.body = type ? body : JSON.stringify(body);
    }
    return fetch(API + path, options).then(function (response) {
      if (response.status === 403) { throw new Error(text('forbidden')); }
      if (response.status === 401) { throw new Error(text('refused')); }
      if (response.status === 404 || response.status === 409) { throw new Error(text('gone')); }
      if (response.status === 400 || response.status === 422) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body.message || text('invalid.input'));
        });
      }
      if (!response.ok) { throw new Error(text('network')); }
      return response;
    }, function () { throw new Error(text('network')); });
  }
  function getJson(path) { return request('GET', path).then(function (r) { return r.json(); }); }
  function fail(error) { say(error.message, true); }

  function show(view) {
    ['courses-view', 'course-view', 'student-view'].forEach(function (id) {
      $(id).hidden = id !== view;
    });
    var heading = $(view).querySelector('h1');
    if (heading) { heading.focus(); }
  }

  function applyTexts() {
    document.querySelectorAll('[data-text]').forEach(function (node) {
      var value = texts[node.getAttribute('data-text')];
      if (value) { node.textContent = value; }
    });
    document.title = text('title');
    var legend = $('legend');
    clear(legend);
    LETTERS.concat(['-']).forEach(function (letter) {
      var item = el('span');
      item.appendChild(el('b', { 'class': 'cell s-' + (letter === '-' ? 'none' : letter), 'aria-hidden': 'true' }, letterText(letter)));
      item.appendChild(document.createTextNode(statusText(letter)));
      legend.appendChild(item);
    });
    var select = $('status-filter');
    clear(select);
    select.appendChild(el('option', { value: '' }, text('status_any')));
    LETTERS.forEach(function (letter) {
      select.appendChild(el('option', { value: letter }, statusText(letter)));
    });
  }

  /* --- courses ---------------------------------------------------------------------------- */

  function loadCourses() {
    say(text('loading'));
    return getJson('/courses').then(function (body) {
      say('');
      var list = $('courses');
      clear(list);
      if (!body.courses.length) { list.appendChild(el('li', null, text('no_courses'))); }
      body.courses.forEach(function (c) {
        var item = el('li');
        var open = el('button', { type: 'button', 'data-course': c.id });
        open.appendChild(el('span', null, c.name));
        open.appendChild(el('span', { 'class': 'role' }, text('role.' + c.role)));
        open.addEventListener('click', function () { openCourse(c); });
        item.appendChild(open);
        list.appendChild(item);
      });
      show('courses-view');
    }).catch(fail);
  }

  /* --- a course's table --------------------------------------------------------------------- */

  function openCourse(c) {
    course = { id: c.id, name: c.name, may: c.may };
    $('course-title').textContent = c.name;
    $('filter').value = '';
    $('status-filter').value = '';
    show('course-view');
    $('exports').hidden = !may('report');
    $('chart-box').hidden = !may('report');
    $('roster-box').hidden = !may('manage');
    $('claims-box').hidden = !may('manage');
    $('timetable-box').hidden = !may('settings');
    $('tt-result').textContent = '';
    loadTable();
    loadExcuses();
    if (may('manage')) { loadClaims(); }
    if (may('settings')) { loadTimetable(); }
  }

  function loadTable() {
    say(text('loading'));
    return getJson('/courses/' + course.id + '/table').then(function (body) {
      table = body;
      course.may = body.may;
      say('');
      renderTable();
      if (body.reports) { drawChart(); }
    }).catch(fail);
  }

  function sortValue(student, key) {
    if (key === 'name') { return (student.name || '').toLocaleLowerCase(); }
    if (key === 'number') { return (student.number || '').toLocaleLowerCase(); }
    var value = student[key];
    return value === null || value === undefined ? -1 : value;
  }

  function visibleStudents() {
    var query = $('filter').value.trim().toLocaleLowerCase();
    var status = $('status-filter').value;
    var rows = table.students.filter(function (s) {
      if (query && (s.name || '').toLocaleLowerCase().indexOf(query) < 0 &&
          (s.number || '').toLocaleLowerCase().indexOf(query) < 0) { return false; }
      return !status || s.cells.indexOf(status) >= 0;
    });
    rows.sort(function (a, b) {
      var x = sortValue(a, sort.key), y = sortValue(b, sort.key);
      return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
    });
    return rows;
  }

  function headerButton(key, label, title) {
    var th = el('th', { scope: 'col' });
    if (key === 'name') { th.className = 'name'; }
    var order = sort.key === key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none';
    th.setAttribute('aria-sort', order);
    var button = el('button', { type: 'button', 'data-sort': key }, label);
    if (title) { button.setAttribute('title', title); }
    button.addEventListener('click', function () {
      sort = { key: key, dir: sort.key === key ? -sort.dir : 1 };
      renderTable();
    });
    th.appendChild(button);
    return th;
  }

  function renderTable() {
    var grid = $('table');
    clear(grid);
    $('no-sessions').hidden = table.sessions.length > 0;
    var head = el('thead');
    var line = el('tr');
    line.appendChild(headerButton('name', text('student')));
    line.appendChild(headerButton('number', text('number')));
    if (table.reports) {
      line.appendChild(headerButton('rate', text('rate')));
      line.appendChild(headerButton('grade', text('grade')));
    }
    table.sessions.forEach(function (s, i) {
      var th = el('th', { scope: 'col', title: s.title + ' · ' + when(s.started_at) });
      th.appendChild(el('span', { 'aria-hidden': 'true' }, String(i + 1)));
      th.setAttribute('aria-label', s.title + ', ' + day(s.started_at));
      line.appendChild(th);
    });
    head.appendChild(line);
    grid.appendChild(head);
    var body = el('tbody');
    visibleStudents().forEach(function (s) {
      var row = el('tr', { 'data-student': s.id });
      var name = el('th', { scope: 'row', 'class': 'name' });
      var open = el('button', { type: 'button' }, s.name || '—');
      open.addEventListener('click', function () { openStudent(s.id); });
      name.appendChild(open);
      row.appendChild(name);
      row.appendChild(el('td', { 'class': 'num' }, s.number || ''));
      if (table.reports) {
        row.appendChild(el('td', { 'class': 'num' }, s.rate === null ? '—' : s.rate + '%'));
        row.appendChild(el('td', { 'class': 'num' }, s.grade === null ? '—' : s.grade));
      }
      for (var i = 0; i < s.cells.length; i++) {
        var letter = s.cells.charAt(i);
        var td = el('td');
        var cell = el('button', {
          type: 'button',
          'class': 'cell s-' + (letter === '-' ? 'none' : letter),
          'data-column': i,
          'aria-label': s.name + ', ' + table.sessions[i].title + ': ' + statusText(letter)
        }, letterText(letter));
        td.appendChild(cell);
        row.appendChild(td);
      }
      body.appendChild(row);
    });
    body.addEventListener('click', function (event) {
      var cell = event.target.closest('button.cell');
      if (!cell) { return; }
      var id = Number(cell.closest('tr').getAttribute('data-student'));
      openSheet(id, Number(cell.getAttribute('data-column')));
    });
    grid.appendChild(body);
  }

  function drawChart() {
    var box = $('chart');
    if (chart) { chart.destroy(); chart = null; }
    clear(box);
    if (!window.uPlot || !table.sessions.length) { return; }
    var xs = table.sessions.map(function (s, i) { return i + 1; });
    var ys = table.sessions.map(function (s) { return s.rate; });
    box.setAttribute('aria-label', text('chart') + ': ' + table.sessions.map(function (s, i) {
      return (i + 1) + ' ' + s.rate + '%';
    }).join(', '));
    var style = getComputedStyle(document.documentElement);
    var ink = style.getPropertyValue('--attn-text').trim() || '#000';
    var accent = style.getPropertyValue('--attn-button').trim() || '#2481cc';
    chart = new window.uPlot({
      width: Math.max(280, box.clientWidth || 300),
      height: 220,
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ stroke: ink }, { stroke: ink, values: function (u, v) { return v.map(function (n) { return n + '%'; }); } }],
      series: [{ label: '#' }, { label: text('rate'), stroke: accent, width: 2, points: { show: true } }],
      legend: { show: false }
    }, [xs, ys], box);
  }

  /* --- the correction sheet ------------------------------------------------------------------ */

  function studentById(id) {
    return table.students.filter(function (s) { return s.id === id; })[0];
  }

  function openSheet(id, column) {
    var student = studentById(id);
    var session = table.sessions[column];
    editing = { id: id, column: column };
    $('sheet-who').textContent = student.name + ' · ' + session.title + ' · ' + day(session.started_at);
    var box = $('sheet-statuses');
    clear(box);
    box.appendChild(el('legend', { 'class': 'sr' }, text('correct_title')));
    LETTERS.forEach(function (letter) {
      var label = el('label');
      var radio = el('input', { type: 'radio', name: 'status', value: STATUS_OF[letter] });
      if (student.cells.charAt(column) === letter) { radio.checked = true; }
      label.appendChild(radio);
      label.appendChild(el('b', { 'class': 'cell s-' + letter, 'aria-hidden': 'true' }, letterText(letter)));
      label.appendChild(document.createTextNode(statusText(letter)));
      box.appendChild(label);
    });
    $('sheet').showModal();
  }

  function saveSheet(event) {
    event.preventDefault();
    var chosen = $('sheet-form').querySelector('input[name="status"]:checked');
    if (!chosen || !editing) { $('sheet').close(); return; }
    var target = editing;
    var session = table.sessions[target.column];
    request('POST', '/courses/' + course.id + '/cells', {
      session_id: session.id, student_id: target.id, status: chosen.value
    }).then(function () {
      $('sheet').close();
      say(text('saved'));
      return loadTable().then(function () { say(text('saved')); });
    }).catch(function (error) { $('sheet').close(); fail(error); });
  }

  /* --- a student's page ---------------------------------------------------------------------- */

  function openStudent(id) {
    studentId = id;
    say(text('loading'));
    getJson('/courses/' + course.id + '/students/' + id).then(function (body) {
      say('');
      $('student-title').textContent = body.student.name +
        (body.student.number ? ' · ' + body.student.number : '');
      var list = $('records');
      clear(list);
      body.records.forEach(function (r) {
        var item = el('li');
        var letter = LETTERS.filter(function (l) { return STATUS_OF[l] === r.status; })[0];
        item.appendChild(el('b', { 'class': 'cell s-' + letter, 'aria-hidden': 'true' }, letterText(letter)));
        item.appendChild(document.createTextNode(r.title + ' · ' + day(r.started_at) + ': ' + statusText(letter)));
        var changes = el('ul', { 'class': 'changes', 'aria-label': text('changes') });
        r.changes.forEach(function (c) {
          var old = c.old ? text('status.' + c.old) : '—';
          changes.appendChild(el('li', null, when(c.at) + ': ' + old + ' → ' + text('status.' + c.new)));
        });
        if (r.changes.length) { item.appendChild(changes); }
        list.appendChild(item);
      });
      $('remove-student').hidden = !may('manage');
      show('student-view');
    }).catch(fail);
  }

  function removeStudent() {
    request('DELETE', '/courses/' + course.id + '/students/' + studentId).then(function () {
      say(text('saved'));
      show('course-view');
      loadTable();
    }).catch(fail);
  }

  /* --- excuses, roster, timetable, files ----------------------------------------------------- */

  function decisionButtons(label, onDecide) {
    var actions = el('div', { 'class': 'actions' });
    [['approve', true, 'primary'], ['decline', false, 'secondary']].forEach(function (a) {
      var button = el('button', { type: 'button', 'class': a[2], 'data-decide': a[0] }, text(a[0]));
      button.setAttribute('aria-label', text(a[0]) + ': ' + label);
      button.addEventListener('click', function () { onDecide(a[1]); });
      actions.appendChild(button);
    });
    return actions;
  }

  /* A queue the teacher decides (excuse requests, roster claims): GET /<kind> lists it,
     `describe` draws an item's text and returns the buttons' label, and approve or decline
     is POST /<kind>/<id>; the queue and the table are read again after. */
  function loadQueue(kind, field, empty, describe) {
    var reload = function () { return loadQueue(kind, field, empty, describe); };
    return getJson('/courses/' + course.id + '/' + kind).then(function (body) {
      var list = $(kind);
      clear(list);
      if (!body[field].length) { list.appendChild(el('li', null, text(empty))); }
      body[field].forEach(function (r) {
        var item = el('li', { 'data-request': r.id });
        var label = describe(item, r);
        item.appendChild(decisionButtons(label, function (approve) {
          request('POST', '/courses/' + course.id + '/' + kind + '/' + r.id, { approve: approve })
            .then(function () { say(text('saved')); reload(); loadTable(); })
            .catch(function (error) { fail(error); reload(); });
        }));
        list.appendChild(item);
      });
    }).catch(fail);
  }

  function loadExcuses() {
    return loadQueue('excuses', 'requests', 'no_excuses', function (item, r) {
      item.appendChild(el('b', null, r.student));
      item.appendChild(document.createTextNode(' · ' + r.title + ' · ' + day(r.started_at)));
      item.appendChild(el('p', null, r.reason));
      return r.student + ', ' + r.title;
    });
  }

  function loadClaims() {
    return loadQueue('claims', 'claims', 'no_claims', function (item, c) {
      item.appendChild(el('bdi', { 'class': 'who' }, c.student));
      item.appendChild(document.createTextNode(' · ' + when(c.requested_at)));
      var number = el('p', null, text('claim_number') + ' ');
      number.appendChild(el('bdi', null, c.number));
      item.appendChild(number);
      return c.student + ', ' + c.number;
    });
  }

  function importRoster() {
    var file = $('roster-file').files[0];
    if (!file) { return; }
    var path = '/courses/' + course.id + '/roster?filename=' + encodeURIComponent(file.name);
    request('POST', path, file, 'application/octet-stream')
      .then(function (r) { return r.json(); })
      .then(function (body) {
        $('roster-result').textContent = text('imported') + ' ' + body.added + '. ' +
          text('rejected') + ' ' + body.rejected.length + '.';
        loadTable();
      }).catch(function (error) { $('roster-result').textContent = error.message; });
  }

  /* The timetable: what GET and every change answer is the whole timetable, drawn again. */

  function weekdayName(n) {
    try {
      return new Date(Date.UTC(2024, 0, 1 + n)).toLocaleDateString(language, {
        weekday: 'long', timeZone: 'UTC'
      });
    } catch (e) { return String(n + 1); }
  }
  function dayName(iso) {
    try {
      return new Date(iso + 'T12:00:00Z').toLocaleDateString(language, {
        weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC'
      });
    } catch (e) { return iso; }
  }

  function removeButton(label, onRemove) {
    var button = el('button', { type: 'button', 'class': 'danger' }, text('delete'));
    button.setAttribute('aria-label', text('delete') + ': ' + label);
    button.addEventListener('click', onRemove);
    return button;
  }

  function renderTimetable(body) {
    $('tt-zone').textContent = body.zone;
    var slots = $('slots');
    clear(slots);
    if (!body.slots.length) { slots.appendChild(el('li', null, text('no_slots'))); }
    body.slots.forEach(function (s) {
      var label = weekdayName(s.weekday) + ' ' + s.start + ' · ' + s.minutes + '′';
      var item = el('li', { 'class': 'line', 'data-slot': s.weekday + ' ' + s.start });
      item.appendChild(el('bdi', null, label));
      item.appendChild(removeButton(label, function () {
        changeTimetable('DELETE', '/slots/' + s.weekday + '/' + encodeURIComponent(s.start));
      }));
      slots.appendChild(item);
    });
    $('term-first').value = body.first_day;
    $('term-last').value = body.last_day;
    $('times-early').value = body.early_minutes;
    $('times-remind').value = body.remind_minutes;
    var holidays = $('holidays');
    clear(holidays);
    if (!body.holidays.length) { holidays.appendChild(el('li', null, text('no_holidays'))); }
    body.holidays.forEach(function (d) {
      var item = el('li', { 'class': 'line', 'data-holiday': d });
      item.appendChild(el('bdi', null, dayName(d)));
      item.appendChild(removeButton(dayName(d), function () {
        changeTimetable('DELETE', '/holidays/' + encodeURIComponent(d));
      }));
      holidays.appendChild(item);
    });
    $('tt-group').textContent = text(body.group_linked ? 'timetable.group_linked' : 'no_group');
    $('tt-unlink').hidden = !body.group_linked;
    var list = $('timetable');
    clear(list);
    if (!body.classes.length) { list.appendChild(el('li', null, text('no_classes'))); }
    body.classes.forEach(function (c) { list.appendChild(el('li', null, when(c.starts_at))); });
  }

  function loadTimetable() {
    getJson('/courses/' + course.id + '/timetable').then(renderTimetable)
      .catch(function () { $('timetable-box').hidden = true; });
  }

  function changeTimetable(method, path, body, type) {
    var result = $('tt-result');
    result.className = 'status';
    result.textContent = '';
    $('tt-report').textContent = '';
    return request(method, '/courses/' + course.id + '/timetable' + path, body, type)
      .then(function (r) { return r.json(); })
      .then(function (timetable) {
        renderTimetable(timetable);
        if (timetable.report) {
          $('tt-report').textContent = timetable.report;  // an import: the chat's own reply
        } else { result.textContent = text('saved'); }
      }).catch(function (error) {
        result.className = 'status error';
        result.textContent = error.message;
      });
  }

  function number(id) {
    var value = $(id).value.trim();
    return /^[0-9]+$/.test(value) ? Number(value) : value;
  }

  function startTimetableForms() {
    var days = $('slot-day');
    for (var n = 0; n < 7; n++) { days.appendChild(el('option', { value: n }, weekdayName(n))); }
    $('slot-form').addEventListener('submit', function (event) {
      event.preventDefault();
      changeTimetable('POST', '/slots', {
        weekday: Number(days.value), start: $('slot-start').value, minutes: number('slot-minutes')
      });
    });
    $('term-form').addEventListener('submit', function (event) {
      event.preventDefault();
      changeTimetable('PUT', '/term', {
        first_day: $('term-first').value, last_day: $('term-last').value
      });
    });
    $('times-form').addEventListener('submit', function (event) {
      event.preventDefault();
      changeTimetable('PUT', '/times', {
        early_minutes: number('times-early'), remind_minutes: number('times-remind')
      });
    });
    $('tt-unlink').addEventListener('click', function () { changeTimetable('DELETE', '/group'); });
    $('tt-import').addEventListener('click', function () {
      var file = $('tt-file').files[0];
      if (file) { changeTimetable('POST', '/import', file, 'application/octet-stream'); }
    });
    $('holiday-form').addEventListener('submit', function (event) {
      event.preventDefault();
      changeTimetable('PUT', '/holidays/' + encodeURIComponent($('holiday-day').value || '-'));
    });
  }

  function download(kind) {
    request('GET', '/courses/' + course.id + '/export.' + kind).then(function (response) {
      var header = response.headers.get('Content-Disposition') || '';
      var match = /filename="([^"]+)"/.exec(header);
      return response.blob().then(function (blob) {
        var link = $('download');
        if (link.href) { URL.revokeObjectURL(link.href); }
        link.href = URL.createObjectURL(blob);
        link.download = match ? match[1] : 'report.' + kind;
        link.textContent = link.download;
        link.click();
      });
    }).catch(fail);
  }

  /* --- start ----------------------------------------------------------------------------------- */

  function start() {
    applyTheme();
    if (tg) {
      try { tg.ready(); tg.expand(); } catch (e) { /* not inside Telegram */ }
      if (tg.onEvent) { tg.onEvent('themeChanged', applyTheme); }
    }
    $('to-courses').addEventListener('click', loadCourses);
    $('to-course').addEventListener('click', function () { show('course-view'); });
    $('filter').addEventListener('input', renderTable);
    $('status-filter').addEventListener('change', renderTable);
    $('sheet-form').addEventListener('submit', saveSheet);
    $('sheet-cancel').addEventListener('click', function () { $('sheet').close(); });
    $('remove-student').addEventListener('click', removeStudent);
    $('roster-import').addEventListener('click', importRoster);
    $('export-csv').addEventListener('click', function () { download('csv'); });
    $('export-xlsx').addEventListener('click', function () { download('xlsx'); });
    var claimed = (tg && tg.initDataUnsafe && tg.initDataUnsafe.user) || {};
    var lang = encodeURIComponent(claimed.language_code || navigator.language || 'en');
    fetch(API + '/config?lang=' + lang, {
      headers: { 'Authorization': 'tma ' + initData }, credentials: 'omit', cache: 'no-store'
    }).then(function (r) { return r.json(); }).then(function (config) {
      texts = config.texts;
      language = config.language;
      document.documentElement.lang = language;
      document.documentElement.dir = config.direction || 'ltr';
      applyTexts();
      startTimetableForms();
      document.documentElement.setAttribute('data-ready', '1');
      if (!config.authenticated) { say(text('refused'), true); return; }
      loadCourses();
    }).catch(function () { say('No connection.', true); });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else { start(); }
})();
