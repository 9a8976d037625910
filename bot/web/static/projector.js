// The projector page (bot/web/projector.py): follows the session's events stream and keeps
// the code, the QR, the count and the time left on screen current. No library, no inline
// script (the CSP allows scripts from this server only).
(function () {
  "use strict";

  const body = document.body;
  const main = document.getElementById("projector");
  if (!main) {
    return; // the refusal page: nothing to follow
  }
  const el = (id) => document.getElementById(id);
  const code = el("code");
  const qr = el("qr");
  const count = el("count");
  const left = el("left");
  const status = el("status");
  const endedNote = el("ended");

  let endsAt = Number(body.dataset.endsAt);
  // Server time minus this computer's: the time left follows the server's clock even when
  // the classroom PC's clock is wrong.
  let offset = Number(body.dataset.now) - Date.now();
  let ended = body.dataset.ended === "1";
  let source = null;
  let retry = null;

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function tick() {
    if (ended) {
      left.textContent = "0:00";
      return;
    }
    const seconds = Math.max(0, Math.ceil((endsAt - (Date.now() + offset)) / 1000));
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const text = hours
      ? hours + ":" + pad(minutes) + ":" + pad(seconds % 60)
      : minutes + ":" + pad(seconds % 60);
    if (left.textContent !== text) {
      left.textContent = text;
    }
  }

  function end() {
    ended = true;
    body.classList.add("ended");
    endedNote.hidden = false;
    status.hidden = true;
    code.textContent = "";
    qr.replaceChildren();
    tick();
    if (source) {
      source.close();
    }
  }

  function refuse() {
    ended = true;
    if (source) {
      source.close();
    }
    const title = document.createElement("h1");
    title.textContent = body.dataset.refusedTitle;
    const text = document.createElement("p");
    text.textContent = body.dataset.refusedText;
    const refusal = document.createElement("main");
    refusal.className = "refused";
    refusal.id = "refusal";
    refusal.append(title, text);
    main.replaceWith(refusal);
    body.classList.remove("ended");
    document.title = body.dataset.refusedTitle;
  }

  function show(state) {
    offset = state.now - Date.now();
    endsAt = state.ends_at;
    if (typeof state.qr === "string") {
      // Server-made SVG of the check-in link (segno), nothing from a user.
      qr.innerHTML = state.qr;
    }
    if (code.textContent !== state.code) {
      code.textContent = state.code;
    }
    if (count.textContent !== state.count) {
      count.textContent = state.count;
    }
    if (state.ended) {
      end();
    }
    tick();
  }

  function connect() {
    retry = null;
    source = new EventSource(body.dataset.events);
    source.addEventListener("open", function () {
      status.hidden = true;
    });
    source.addEventListener("state", function (event) {
      status.hidden = true;
      show(JSON.parse(event.data));
    });
    source.addEventListener("refused", refuse);
    source.addEventListener("error", function () {
      if (ended) {
        return;
      }
      status.hidden = false;
      // The browser reconnects by itself after a dropped connection; after a refused one
      // (a proxy's 502, a server starting) it gives up, so a new stream is opened.
      if (source.readyState === EventSource.CLOSED && retry === null) {
        retry = setTimeout(connect, 2000);
      }
    });
  }

  // A classroom PC: a double click (or F) fills the screen, and the screen stays on while
  // the session runs, where the browser allows it.
  function fullScreen() {
    if (!document.fullscreenElement && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () {});
    }
  }
  document.addEventListener("dblclick", fullScreen);
  document.addEventListener("keydown", function (event) {
    if (event.key === "f" || event.key === "F") {
      fullScreen();
    }
  });
  function keepScreenOn() {
    if (!ended && navigator.wakeLock && document.visibilityState === "visible") {
      navigator.wakeLock.request("screen").catch(function () {});
    }
  }
  document.addEventListener("visibilitychange", keepScreenOn);

  if (ended) {
    end();
  } else {
    tick();
    setInterval(tick, 250);
    connect();
    keepScreenOn();
  }
})();
