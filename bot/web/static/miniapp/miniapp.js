/* ATTN's Mini App: check in with the code on the projector (typed or scanned), answered by
   the server in the HTTP response; the student's attendance one tap away.
   Authentication is Telegram's initData, sent as `Authorization: tma <initData>` on every
   request (no cookies). Texts come from the server's catalog, in the user's language. */
(function () {
  'use strict';

  var tg = (window.Telegram && window.Telegram.WebApp) || null;
  var initData = (tg && tg.initData) || '';
  var texts = {};
  var busy = false;
  var refused = false;
  // The check-in link's parameter (ci_<session>-<code>) from a scan or the startapp link,
  // sent instead of the bare code while the field still shows that code.
  var pending = null;

  var CODE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/;
  var CHECKIN_PARAMETER = /^ci_[0-9a-f]{12}-([23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6})$/;
  var LINK_PARAMETER = /[?&]start(?:app)?=([A-Za-z0-9_-]{1,64})/;
  var THEME = {
    bg_color: '--bg',
    text_color: '--text',
    hint_color: '--hint',
    link_color: '--link',
    button_color: '--button',
    button_text_color: '--button-text',
    secondary_bg_color: '--secondary-bg',
    destructive_text_color: '--destructive'
  };

  function $(id) { return document.getElementById(id); }

  function cleanCode(text) {
    return String(text || '').trim().toUpperCase().replace(/[\s_-]/g, '');
  }

  /* What a scanned QR (or a start parameter) carries: {code, payload} or null when it is
     not a check-in code of ours. */
  function parseScan(text) {
    text = String(text || '').trim();
    var link = LINK_PARAMETER.exec(text);
    var parameter = link ? link[1] : text;
    var match = CHECKIN_PARAMETER.exec(parameter);
    if (match) { return { code: match[1], payload: parameter }; }
    if (link) { return null; }
    var code = cleanCode(text);
    return CODE.test(code) ? { code: code, payload: code } : null;
  }

  function applyTheme() {
    var root = document.documentElement;
    var params = (tg && tg.themeParams) || {};
    Object.keys(THEME).forEach(function (key) {
      if (params[key]) { root.style.setProperty(THEME[key], params[key]); }
    });
    if (tg && tg.colorScheme) { root.setAttribute('data-scheme', tg.colorScheme); }
  }

  function haptic(kind) {
    try {
      if (tg && tg.HapticFeedback) { tg.HapticFeedback.notificationOccurred(kind); }
    } catch (e) { /* older clients: no haptics */ }
  }

  function say(message, kind) {
    var box = $('result');
    box.className = 'result' + (kind ? ' ' + kind : '');
    box.textContent = message || '';
  }

  function api(method, path, body) {
    var options = {
      method: method,
      headers: { 'Authorization': 'tma ' + initData },
      credentials: 'omit',
      cache: 'no-store'
    };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { ok: response.ok, status: response.status, body: json };
      });
    });
  }

  function refusalText(body) {
    return texts['refused.' + body.error] || body.message || texts['refused.invalid'];
  }

  function setBusy(on, message) {
    busy = on;
    $('submit').disabled = on;
    $('scan').disabled = on;
    $('code').setAttribute('aria-busy', on ? 'true' : 'false');
    if (tg && tg.MainButton) {
      if (on) { tg.MainButton.showProgress(false); } else { tg.MainButton.hideProgress(); }
    }
    if (on && message) { say(message, 'busy'); }
  }

  function currentLocation() {
    return new Promise(function (resolve, reject) {
      function fromBrowser() {
        if (!navigator.geolocation) { reject(new Error('no geolocation')); return; }
        navigator.geolocation.getCurrentPosition(function (position) {
          resolve({
            latitude: position.coords.latitude,
            longitude: position.coords.longitude,
            accuracy: position.coords.accuracy
          });
        }, reject, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
      }
      var manager = tg && tg.LocationManager;
      var recent = tg && tg.isVersionAtLeast && tg.isVersionAtLeast('8.0');
      if (!manager || !recent) { fromBrowser(); return; }
      manager.init(function () {
        if (!manager.isLocationAvailable) { fromBrowser(); return; }
        manager.getLocation(function (place) {
          if (!place) { reject(new Error('location refused')); return; }
          resolve({
            latitude: place.latitude,
            longitude: place.longitude,
            accuracy: place.horizontal_accuracy == null ? null : place.horizontal_accuracy
          });
        });
      });
    });
  }

  function showAnswer(answer) {
    var body = answer.body || {};
    if (answer.status === 401) {
      refuse(body);
      return;
    }
    if (!answer.ok) {
      say(body.message || texts.network, 'error');
      haptic('error');
      return;
    }
    var done = body.outcome === 'recorded' || body.outcome === 'duplicate';
    say(body.message, done ? 'ok' : 'error');
    haptic(done ? 'success' : 'error');
  }

  function refuse(body) {
    refused = true;
    say(refusalText(body), 'error');
    haptic('error');
    $('submit').disabled = true;
    $('scan').disabled = true;
    $('code').disabled = true;
    $('show-history').hidden = true;  // it would be refused the same way
    if (tg && tg.MainButton) { tg.MainButton.hide(); }
  }

  function submit() {
    if (busy || refused) { return; }
    var typed = $('code').value;
    if (!cleanCode(typed)) {
      say(texts.not_a_code, 'error');
      haptic('error');
      $('code').focus();
      return;
    }
    var code = pending && pending.code === cleanCode(typed) ? pending.payload : typed;
    setBusy(true, texts.sending);
    api('POST', '/api/miniapp/checkin', { code: code }).then(function (answer) {
      if (!(answer.ok && answer.body.location_required)) { return answer; }
      say(answer.body.message, 'busy');
      return currentLocation().then(function (place) {
        say(texts.locating, 'busy');
        return api('POST', '/api/miniapp/checkin', { code: code, location: place });
      }, function () {
        return { ok: false, status: 0, body: { message: texts.location_denied } };
      });
    }).then(showAnswer, function () {
      say(texts.network, 'error');
      haptic('error');
    }).then(function () { setBusy(false); });
  }

  function scan() {
    if (!tg || !tg.showScanQrPopup) { return; }
    tg.showScanQrPopup({ text: texts.scan_prompt }, function (text) {
      var scanned = parseScan(text);
      if (!scanned) {
        say(texts.scan_not_ours, 'error');
        haptic('error');
        return true;
      }
      pending = scanned;
      $('code').value = scanned.code;
      window.setTimeout(submit, 0);
      return true;
    });
  }

  function showHistory() {
    $('checkin-view').hidden = true;
    $('history-view').hidden = false;
    $('history-title').focus();
    if (tg && tg.MainButton) { tg.MainButton.hide(); }
    if (tg && tg.BackButton) { tg.BackButton.show(); }
    var box = $('history');
    box.setAttribute('aria-busy', 'true');
    box.textContent = texts.loading || '';
    api('GET', '/api/miniapp/history').then(function (answer) {
      var body = answer.body || {};
      box.textContent = answer.status === 401 ? refusalText(body) : (body.message || texts.network);
    }, function () {
      box.textContent = texts.network;
    }).then(function () { box.setAttribute('aria-busy', 'false'); });
  }

  function showCheckIn() {
    $('history-view').hidden = true;
    $('checkin-view').hidden = false;
    if (tg && tg.BackButton) { tg.BackButton.hide(); }
    if (tg && tg.MainButton && !refused) { tg.MainButton.show(); }
    $('show-history').focus();
  }

  function applyTexts(config) {
    texts = config.texts || {};
    var root = document.documentElement;
    root.lang = config.language || 'en';
    root.dir = config.direction || 'ltr';
    document.title = texts.title || document.title;
    Array.prototype.forEach.call(document.querySelectorAll('[data-text]'), function (node) {
      var text = texts[node.getAttribute('data-text')];
      if (text) { node.textContent = text; }
    });
    if (tg && tg.MainButton) { tg.MainButton.setText(texts.submit || 'Check in'); }
  }

  function start() {
    applyTheme();
    var unsafe = (tg && tg.initDataUnsafe) || {};
    var language = unsafe.user && unsafe.user.language_code ? unsafe.user.language_code : '';
    var inTelegram = !!(tg && initData && tg.MainButton);
    if (inTelegram) {
      $('submit').hidden = true;  // Telegram's main button submits
      tg.MainButton.onClick(submit);
      if (tg.BackButton) { tg.BackButton.onClick(showCheckIn); }
      if (tg.onEvent) { tg.onEvent('themeChanged', applyTheme); }
      if (tg.showScanQrPopup && (!tg.isVersionAtLeast || tg.isVersionAtLeast('6.4'))) {
        $('scan').hidden = false;
      }
    }
    $('checkin-form').addEventListener('submit', function (event) {
      event.preventDefault();
      submit();
    });
    $('scan').addEventListener('click', scan);
    $('show-history').addEventListener('click', showHistory);
    $('back').addEventListener('click', showCheckIn);
    $('code').addEventListener('input', function () {
      if (pending && pending.code !== cleanCode($('code').value)) { pending = null; }
    });
    var opened = unsafe.start_param ? parseScan(unsafe.start_param) : null;
    if (opened) {
      pending = opened;
      $('code').value = opened.code;
    }
    var query = language ? '?lang=' + encodeURIComponent(language) : '';
    api('GET', '/api/miniapp/config' + query).then(function (answer) {
      var config = answer.body || {};
      applyTexts(config);
      if (config.refusal) {
        refuse(config.refusal);
      } else if (inTelegram) {
        tg.MainButton.show();
      }
    }, function () {
      say(texts.network || 'No connection to the server.', 'error');
    }).then(function () {
      document.documentElement.setAttribute('data-ready', 'true');
      if (tg && tg.ready) { tg.ready(); }
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
