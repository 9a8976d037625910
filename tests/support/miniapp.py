"""The Mini App under test: initData signed as Telegram signs it, and a stand-in for
`window.Telegram.WebApp` that a real browser runs instead of telegram.org's script."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from selenium import webdriver

from bot.web.init_data import signed_init_data
from tests.conftest import TOKEN

LIGHT_THEME = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#efeff3",
    "destructive_text_color": "#df3f40",
}
DARK_THEME = {
    "bg_color": "#212121",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#8774e1",
    "button_color": "#8774e1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#181818",
    "destructive_text_color": "#ff595a",
}


def init_data_for(
    user_id: int,
    auth_date: datetime,
    *,
    token: str = TOKEN,
    language_code: str = "en",
    first_name: str = "Ada",
    start_param: str | None = None,
) -> str:
    """What Telegram hands the Mini App of `user_id`, signed with `token`."""
    user = {"id": user_id, "first_name": first_name, "language_code": language_code}
    fields = {
        "query_id": f"AAH{user_id}",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(auth_date.timestamp())),
    }
    if start_param is not None:
        fields["start_param"] = start_param
    return signed_init_data(fields, token)


def tampered(init_data: str, user_id: int) -> str:
    """The same initData claiming another user: its hash no longer matches."""
    from urllib.parse import parse_qsl, urlencode

    fields = dict(parse_qsl(init_data))
    user = json.loads(fields["user"])
    user["id"] = user_id
    fields["user"] = json.dumps(user, separators=(",", ":"))
    return urlencode(fields)


_DOUBLE = """
(function () {
  var config = %(config)s;
  var log = window.__tgLog = [];
  function callbacks() {
    var list = [];
    return {
      add: function (fn) { list.push(fn); },
      remove: function (fn) { list = list.filter(function (f) { return f !== fn; }); },
      fire: function () { list.slice().forEach(function (fn) { fn(); }); }
    };
  }
  function button(name) {
    var clicks = callbacks();
    var state = { text: '', visible: false, progress: false, active: true };
    return {
      state: state,
      setText: function (text) { state.text = text; log.push([name, 'text', text]); return this; },
      show: function () { state.visible = true; log.push([name, 'show']); return this; },
      hide: function () { state.visible = false; log.push([name, 'hide']); return this; },
      showProgress: function () { state.progress = true; return this; },
      hideProgress: function () { state.progress = false; return this; },
      enable: function () { state.active = true; return this; },
      disable: function () { state.active = false; return this; },
      onClick: function (fn) { clicks.add(fn); return this; },
      offClick: function (fn) { clicks.remove(fn); return this; },
      click: function () { if (state.visible && state.active) { clicks.fire(); } }
    };
  }
  var unsafe = {};
  new URLSearchParams(config.initData).forEach(function (value, key) {
    unsafe[key] = key === 'user' ? JSON.parse(value) : value;
  });
  var location = config.location;
  window.Telegram = {
    WebApp: {
      initData: config.initData,
      initDataUnsafe: unsafe,
      version: '8.0',
      platform: 'test',
      colorScheme: config.colorScheme,
      themeParams: config.themeParams,
      isVersionAtLeast: function (v) { return parseFloat(v) <= 8.0; },
      ready: function () { log.push(['ready']); },
      expand: function () {},
      onEvent: function () {},
      offEvent: function () {},
      MainButton: button('MainButton'),
      BackButton: button('BackButton'),
      HapticFeedback: {
        notificationOccurred: function (kind) { log.push(['haptic', kind]); },
        impactOccurred: function (kind) { log.push(['impact', kind]); },
        selectionChanged: function () {}
      },
      showScanQrPopup: function (params, callback) {
        log.push(['scan', params.text]);
        window.setTimeout(function () { callback(config.scanned); }, 10);
      },
      closeScanQrPopup: function () {},
      LocationManager: {
        isInited: false,
        isLocationAvailable: location !== null,
        init: function (done) { this.isInited = true; window.setTimeout(done, 0); },
        getLocation: function (done) {
          log.push(['location']);
          window.setTimeout(function () {
            done(location && {
              latitude: location[0], longitude: location[1], horizontal_accuracy: 12
            });
          }, 0);
        }
      }
    }
  };
})();
"""


def webapp_double(
    init_data: str,
    *,
    dark: bool = False,
    scanned: str = "",
    location: tuple[float, float] | None = None,
) -> str:
    """JavaScript defining `window.Telegram.WebApp` as a Telegram client would for this
    launch; the test reads what the page did from `window.__tgLog` and presses the main
    button with `window.Telegram.WebApp.MainButton.click()`."""
    config: dict[str, Any] = {
        "initData": init_data,
        "colorScheme": "dark" if dark else "light",
        "themeParams": DARK_THEME if dark else LIGHT_THEME,
        "scanned": scanned,
        "location": list(location) if location else None,
    }
    return _DOUBLE % {"config": json.dumps(config)}


def open_miniapp(driver: webdriver.Chrome, url: str, double: str) -> None:
    """Open the page with the double in place of telegram.org's script (blocked: the test
    never reaches the network)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*telegram.org*"]})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": double})
    driver.get(url)
