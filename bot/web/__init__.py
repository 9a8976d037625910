"""The web server: one ASGI app (FastAPI on uvicorn) in the bot's process and event loop.

It runs when ATTN_WEBHOOK_URL or ATTN_PUBLIC_URL is set (`Settings.serves_http`) and serves:

* Telegram's webhook at the path of ATTN_WEBHOOK_URL (webhook mode only; bot/web/webhook.py):
  the secret token header compared in constant time (403, nothing handled, counted as
  `attn_errors_total{kind="webhook_forbidden"}`), bodies over 1 MiB refused (413), 200 only
  after the update's handlers ran, 503 once stopping, and the update's claim released when it
  is cut off or fails, so Telegram's redelivery is handled;
* `/healthz`, `/readyz`, `/metrics` (bot/web/ops.py);
* the web features, only when ATTN_PUBLIC_URL is set (`Settings.web_enabled`).

The contract for a web feature (projector page, Mini App, its API):

* Write an `APIRouter` in its own module (`bot/web/<feature>.py`) and add it to
  `bot.web.features.feature_routers`; `create_web_app` includes those routers after the
  webhook and the operational endpoints, and only when `settings.web_enabled`.
* Reach the bot through the dependencies of `bot.web.deps`: `attn_application` (the
  Application: its `bot`, `bot_data`), `attn_services` (the `Services` container; 503 while
  the stores connect), `attn_settings` (the `Settings`). Handlers in chat read
  `context.web_enabled` and answer the catalog key `web.off` where a web button would be.
* Static files: `bot/web/static/` at `/static/` (shipped by `pip install .`, as is
  `bot/web/templates/`). They may be cached; every other response gets
  `Cache-Control: no-store` unless the route sets its own.
* Security headers (bot/web/middleware.py): every response has `X-Content-Type-Options:
  nosniff` and `Referrer-Policy: no-referrer`; every `text/html` response gets
  `middleware.DEFAULT_CSP` (scripts from 'self' and https://telegram.org only, no inline
  script or style, framed only by Telegram Web) unless the route sets its own
  `Content-Security-Policy` header.
* Request bodies over 1 MiB are refused (413) before any route reads them.
* The request log shows status, method, the route's path template and the time; never a
  header, a query string or a path parameter, so a token may travel in any of them.
* Long-lived responses (server-sent events, WebSockets) end when
  `request.app.state.web.stopping` (an `asyncio.Event`) is set: that is the start of the
  process's stop; what is still open about a second later is cut off.

Tests run the real server in-process with `tests.support.web_server.running_web_server`.
"""
