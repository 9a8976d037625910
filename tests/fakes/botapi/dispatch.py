"""Requests in (faults, flood limits, routing to a method) and webhook deliveries out."""

from __future__ import annotations

import copy
import json
import math
import random
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection
from typing import Any

from tests.fakes.botapi.methods import Methods
from tests.fakes.botapi.model import (
    RATE_LIMITED_METHODS,
    ApiError,
    Call,
    FloodLimits,
    JSONDict,
    UploadedFile,
    WebhookDelivery,
    _bad,
    _decode_form_value,
    _ForcedFailure,
    _Method,
    _norm_chat_id,
    _RandomFaults,
    _too_many,
)
from tests.fakes.botapi.uploads import _parse_multipart


class Dispatch(Methods):
    """HTTP requests to method calls, with the faults tests inject; the webhook sender."""

    # ---------------------------------------------------------------- fault injection

    def inject_429(
        self,
        fraction: float,
        *,
        retry_after: float = 1,
        seed: int = 0,
        methods: Collection[str] = RATE_LIMITED_METHODS,
        max_failures: int | None = None,
    ) -> None:
        """Answer ``fraction`` of calls of ``methods`` with 429 (seeded RNG; deterministic for
        a deterministic call order). ``retry_after`` may be fractional to keep tests fast
        (real Telegram always sends an integer). ``fraction=0`` disables."""
        with self._lock:
            self._random_faults = (
                _RandomFaults(
                    fraction=fraction,
                    retry_after=retry_after,
                    methods=frozenset(methods),
                    rng=random.Random(seed),
                    max_failures=max_failures,
                )
                if fraction > 0
                else None
            )

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 400,
        description: str = "Bad Request: injected failure",
        parameters: JSONDict | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (optionally only to ``chat_id``) with
        the given error, e.g. ``error_code=403, description="Forbidden: bot was blocked by the
        user"`` or ``error_code=502`` (PTB: NetworkError)."""
        with self._lock:
            self._forced.append(
                _ForcedFailure(
                    method, error_code, description, parameters, times, _norm_chat_id(chat_id)
                )
            )

    def set_flood_limits(self, limits: FloodLimits | None = None) -> None:
        """Enforce Telegram flood rules (calls over the limit get 429); ``None`` disables."""
        with self._lock:
            self._flood = limits

    def _fault_for(self, call: Call) -> tuple[str, ApiError] | None:
        for forced in self._forced:
            if (
                forced.method == call.method
                and forced.remaining > 0
                and (forced.chat_id is None or forced.chat_id == call.chat_id)
            ):
                forced.remaining -= 1
                err = ApiError(forced.error_code, forced.description, forced.parameters)
                return "forced", err
        self._forced = [f for f in self._forced if f.remaining > 0]
        faults = self._random_faults
        if (
            faults is not None
            and call.method in faults.methods
            and (faults.max_failures is None or faults.injected < faults.max_failures)
            and faults.rng.random() < faults.fraction
        ):
            faults.injected += 1
            return "random_429", _too_many(faults.retry_after)
        limits = self._flood
        if limits is not None and call.method in limits.methods:
            retry_after = self._flood_retry_after(call, limits)
            if retry_after is not None:
                return "flood", _too_many(retry_after)
        return None

    def _flood_retry_after(self, call: Call, limits: FloodLimits) -> float | None:
        """None when `call` fits the limits; else its `retry_after`: `limits.retry_after`,
        or, like Telegram, the whole seconds until the exceeded window has room (at least 1).

        Scans the calls backwards only as far as the longest window (a burst of thousands
        of calls stays cheap)."""
        is_group = isinstance(call.chat_id, str) or (
            isinstance(call.chat_id, int) and call.chat_id < 0
        )
        rules: list[tuple[float, int, bool]] = []  # (window, most, same chat only)
        if limits.global_per_second is not None:
            rules.append((1.0, limits.global_per_second, False))
        if call.chat_id is not None and limits.per_chat_per_second is not None:
            rules.append((1.0, limits.per_chat_per_second, True))
        if call.chat_id is not None and is_group and limits.group_per_minute is not None:
            rules.append((60.0, limits.group_per_minute, True))
        if not rules:
            return None
        longest = max(window for window, _, _ in rules)
        seen: list[list[float]] = [[] for _ in rules]  # taken times per rule, newest first
        for c in reversed(self._calls):
            if call.at - c.at >= longest:
                break
            if (
                c is call
                or c.method not in limits.methods
                or c.status not in (0, 200)
                or c.fault is not None
            ):
                continue
            for index, (window, _, same_chat) in enumerate(rules):
                if call.at - c.at < window and (not same_chat or c.chat_id == call.chat_id):
                    seen[index].append(c.at)
        free_at = call.at
        for (window, most, _), times in zip(rules, seen, strict=True):
            if len(times) >= most:
                free_at = max(free_at, times[most - 1] + window)
        if free_at <= call.at:
            return None
        if limits.retry_after is not None:
            return limits.retry_after
        return float(max(1, math.ceil(free_at - call.at)))

    # ---------------------------------------------------------------- request dispatch

    def _track_connection(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    @staticmethod
    def _json_response(status: int, body: JSONDict) -> tuple[int, bytes, str]:
        return status, json.dumps(body, ensure_ascii=False).encode(), "application/json"

    @classmethod
    def _error_response(cls, err: ApiError) -> tuple[int, bytes, str]:
        body: JSONDict = {"ok": False, "error_code": err.code, "description": err.description}
        if err.parameters:
            body["parameters"] = err.parameters
        return cls._json_response(err.code, body)

    def _dispatch(
        self, http_method: str, raw_path: str, content_type: str, body: bytes
    ) -> tuple[int, bytes, str]:
        try:
            return self._dispatch_inner(http_method, raw_path, content_type, body)
        except Exception as exc:  # report; never kill the handler thread
            with self._cond:
                self._server_errors.append(f"{http_method} {raw_path}: {exc!r}")
                self._cond.notify_all()
            return self._json_response(
                500,
                {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc!r}"},
            )

    def _dispatch_inner(
        self, http_method: str, raw_path: str, content_type: str, body: bytes
    ) -> tuple[int, bytes, str]:
        split = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(split.path)
        file_prefix = f"/file/bot{self.token}/"
        if http_method == "GET" and path.startswith(file_prefix):
            with self._lock:
                stored = self._files_by_path.get(path[len(file_prefix) :])
            if stored is None or stored.content is None:
                return self._json_response(
                    404, {"ok": False, "error_code": 404, "description": "Not Found"}
                )
            return 200, stored.content, stored.mime_type or "application/octet-stream"

        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", path)
        if match is None:
            return self._error_response(ApiError(404, "Not Found"))
        token, method = match.groups()

        params: JSONDict = {}
        uploads: dict[str, UploadedFile] = {}
        request_error: ApiError | None = None
        try:
            for key, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
                params[key] = _decode_form_value(key, value)
            ctype = content_type.split(";", 1)[0].strip().lower()
            if body and ctype == "application/x-www-form-urlencoded":
                for key, value in urllib.parse.parse_qsl(
                    body.decode("utf-8"), keep_blank_values=True
                ):
                    params[key] = _decode_form_value(key, value)
            elif body and ctype == "multipart/form-data":
                fields, uploads = _parse_multipart(content_type, body)
                for key, value in fields.items():
                    params[key] = _decode_form_value(key, value)
            elif body and ctype == "application/json":
                decoded = json.loads(body)
                if not isinstance(decoded, dict):
                    raise _bad("request body must be a JSON object")
                params.update(decoded)
        except ApiError as err:
            request_error = err
        except ValueError as exc:
            request_error = _bad(f"can't parse request: {exc}")

        entry = self._methods.get(method.lower())
        if token != self.token:
            request_error = ApiError(401, "Unauthorized")
        elif entry is None:
            request_error = ApiError(404, "Not Found")
        call = Call(
            method=entry[0] if entry else method,
            params=params,
            files={k: u.content for k, u in uploads.items()},
            at=time.monotonic(),
            chat_id=_norm_chat_id(params.get("chat_id")),
            file_names={k: u.filename for k, u in uploads.items()},
            file_types={k: u.content_type for k, u in uploads.items()},
            http_method=http_method,
        )
        with self._cond:
            self._calls.append(call)
            fault = self._fault_for(call) if request_error is None else None
            if fault is not None:
                call.fault = fault[0]

        error: ApiError | None = request_error
        result: Any = None
        if error is not None or entry is None:
            pass
        elif fault is not None:
            error = fault[1]
        else:
            try:
                result = entry[1](params, uploads)
            except ApiError as err:
                error = err

        with self._cond:
            if error is not None:
                call.status = error.code
                call.error = error.description
            else:
                call.status = 200
                call.result = copy.deepcopy(result)
            self._cond.notify_all()
        if error is not None:
            return self._error_response(error)
        return self._json_response(200, {"ok": True, "result": result})

    def _method_table(self) -> dict[str, _Method]:
        return {
            "getMe": self._m_get_me,
            "logOut": self._m_true,
            "close": self._m_true,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "setMyCommands": self._m_set_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "setMyDescription": self._m_set_my_description,
            "getMyDescription": self._m_get_my_description,
            "setMyShortDescription": self._m_set_my_short_description,
            "getMyShortDescription": self._m_get_my_short_description,
            "sendMessage": self._m_send_message,
            "sendDocument": self._m_send_document,
            "sendPhoto": self._m_send_photo,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "editMessageCaption": self._m_edit_message_caption,
            "editMessageMedia": self._m_edit_message_media,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendChatAction": self._m_send_chat_action,
            "getFile": self._m_get_file,
        }

    # ---------------------------------------------------------------- webhook delivery

    def _delivery_loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (self._webhook is None or not self._deliverable()):
                    self._cond.wait(0.5)
                if self._stopping:
                    return
                hook = self._webhook
                assert hook is not None
                update = self._pending[0]
                body = json.dumps(update, ensure_ascii=False).encode()
            status, error = self._post_webhook(hook.url, body, hook.secret_token)
            with self._cond:
                self._deliveries.append(
                    WebhookDelivery(
                        update_id=update["update_id"],
                        url=hook.url,
                        status=status,
                        error=error,
                        at=time.monotonic(),
                        secret_token=hook.secret_token,
                    )
                )
                if error is None:
                    if self._pending and self._pending[0] is update:
                        self._pending.pop(0)
                else:
                    if self._webhook is hook:
                        hook.last_error_date = int(time.time())
                        hook.last_error_message = error
                    self._cond.notify_all()
                    self._cond.wait(self.webhook_retry_interval)
                self._cond.notify_all()

    def _post_webhook(
        self, url: str, body: bytes, secret: str | None
    ) -> tuple[int | None, str | None]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.webhook_timeout) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code, f"Wrong response from the webhook: {exc.code} {exc.reason}"
        except (OSError, ValueError) as exc:
            return None, f"Connection failed: {exc}"
        if not 200 <= status < 300:
            return status, f"Wrong response from the webhook: {status}"
        return status, None
