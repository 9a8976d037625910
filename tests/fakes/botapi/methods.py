"""The Bot API methods the bot calls, each refusing what Telegram refuses."""

from __future__ import annotations

import copy
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.fakes.botapi.chats import Chats
from tests.fakes.botapi.model import (
    _BOT_COMMAND_NAME_RE,
    _CHAT_ACTIONS,
    _MEDIA_NOT_FOUND,
    _NOT_DEFAULT_UPDATE_TYPES,
    _NOT_MODIFIED,
    _QUERY_TOO_OLD,
    _SECRET_TOKEN_RE,
    MAX_DOWNLOAD_BYTES,
    ApiError,
    JSONDict,
    UploadedFile,
    WebhookConfig,
    _bad,
    _Chat,
    _update_type,
)

_LANGUAGE_CODE_RE = re.compile(r"[a-z]{2}")


class Methods(Chats):
    """One `_m_<method>` per Bot API method the bot uses."""

    # ---------------------------------------------------------------- method implementations

    def _m_true(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        return True

    def _m_get_me(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": self.has_main_web_app,
        }

    def _allowed(self, update: JSONDict) -> bool:
        kind = _update_type(update)
        if not self._allowed_updates:
            return kind not in _NOT_DEFAULT_UPDATE_TYPES
        return kind in self._allowed_updates

    def _deliverable(self) -> list[JSONDict]:
        keep: list[JSONDict] = []
        for update in self._pending:
            if self._allowed(update):
                keep.append(update)
            else:
                self._dropped_updates.append(update)
        self._pending = keep
        return keep

    def _m_get_updates(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> list[JSONDict]:
        offset = params.get("offset")
        limit = params.get("limit", 100)
        timeout = params.get("timeout", 0)
        limit = min(max(int(limit), 1), 100) if isinstance(limit, int | float) else 100
        timeout = max(float(timeout), 0.0) if isinstance(timeout, int | float) else 0.0
        with self._cond:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # wake (and terminate) a concurrent long poll
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed]
            if isinstance(offset, int) and not isinstance(offset, bool):
                if offset < 0:
                    self._pending = self._pending[offset:]
                else:
                    self._pending = [u for u in self._pending if u["update_id"] >= offset]
            deadline = time.monotonic() + timeout
            while True:
                if self._stopping:
                    return []
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                if self._webhook is not None:
                    raise ApiError(409, "Conflict: terminated by setWebhook request")
                ready = self._deliverable()[:limit]
                if ready:
                    return copy.deepcopy(ready)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

    def _m_set_webhook(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        url = params.get("url")
        if url is None:
            raise _bad('parameter "url" is required')
        url = str(url)
        with self._cond:
            if params.get("drop_pending_updates") is True:
                self._pending.clear()
            if not url:
                self._webhook = None
                self._cond.notify_all()
                return True
            scheme = urllib.parse.urlsplit(url).scheme
            allowed_schemes = {"https"} if self.require_https_webhook else {"https", "http"}
            if scheme not in allowed_schemes:
                raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
            secret = params.get("secret_token")
            if secret is not None:
                secret = str(secret)
                if not _SECRET_TOKEN_RE.fullmatch(secret):
                    raise _bad("secret token contains unallowed characters")
            max_conn = params.get("max_connections", 40)
            if not isinstance(max_conn, int) or not 1 <= max_conn <= 100:
                raise _bad("bad webhook: max_connections must be between 1 and 100")
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(a) for a in allowed]
            self._webhook = WebhookConfig(
                url=url,
                secret_token=secret,
                max_connections=max_conn,
                allowed_updates=list(self._allowed_updates) if self._allowed_updates else None,
                ip_address=params.get("ip_address"),
                has_custom_certificate="certificate" in uploads,
                set_at=time.monotonic(),
            )
            self._cond.notify_all()
            return True

    def _m_delete_webhook(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        with self._cond:
            self._webhook = None
            if params.get("drop_pending_updates") is True:
                self._pending.clear()
            self._cond.notify_all()
            return True

    def _m_get_webhook_info(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            hook = self._webhook
            info: JSONDict = {
                "url": hook.url if hook else "",
                "has_custom_certificate": bool(hook and hook.has_custom_certificate),
                "pending_update_count": len(self._pending),
            }
            if hook is not None:
                info["max_connections"] = hook.max_connections
                if hook.ip_address:
                    info["ip_address"] = hook.ip_address
                if self._allowed_updates:
                    info["allowed_updates"] = list(self._allowed_updates)
                if hook.last_error_date is not None:
                    info["last_error_date"] = hook.last_error_date
                    info["last_error_message"] = hook.last_error_message
            return info

    @staticmethod
    def _language_code(params: JSONDict) -> str:
        """Telegram takes a two-letter ISO 639-1 code, or none (every other language)."""
        code = params.get("language_code") or ""
        if not isinstance(code, str) or (code and not _LANGUAGE_CODE_RE.fullmatch(code)):
            raise _bad("invalid language code specified")
        return code

    @classmethod
    def _commands_key(cls, params: JSONDict) -> str:
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            scope = json.loads(scope)
        return json.dumps(scope, sort_keys=True) + "|" + cls._language_code(params)

    def _set_description(self, params: JSONDict, field: str, limit: int) -> bool:
        """setMyDescription (≤ 512 characters) / setMyShortDescription (≤ 120); an empty one
        removes the description of that language."""
        code = self._language_code(params)
        text = params.get(field) or ""
        if not isinstance(text, str):
            raise _bad(f"can't parse {field}")
        if len(text) > limit:
            raise _bad(f"{field} is too long")  # Telegram counts characters here
        with self._lock:
            if text:
                self._descriptions[(field, code)] = text
            else:
                self._descriptions.pop((field, code), None)
        return True

    def _get_description(self, params: JSONDict, field: str) -> JSONDict:
        code = self._language_code(params)
        with self._lock:
            found = self._descriptions.get((field, code))
            if found is None:
                found = self._descriptions.get((field, ""), "")
        return {field: found}

    def _m_set_my_description(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        return self._set_description(params, "description", 512)

    def _m_set_my_short_description(
        self, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> bool:
        return self._set_description(params, "short_description", 120)

    def _m_get_my_description(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        return self._get_description(params, "description")

    def _m_get_my_short_description(
        self, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> JSONDict:
        return self._get_description(params, "short_description")

    def _check_scope(self, params: JSONDict) -> None:
        """A chat scope must name a chat the bot can reach: Telegram answers "chat not found"
        for a user who never opened a private chat with the bot."""
        scope = params.get("scope")
        if isinstance(scope, str):
            try:
                scope = json.loads(scope)
            except ValueError as exc:
                raise _bad("can't parse BotCommandScope JSON object") from exc
        if isinstance(scope, dict) and scope.get("type") in {
            "chat",
            "chat_administrators",
            "chat_member",
        }:
            with self._lock:
                self._resolve_chat({"chat_id": scope.get("chat_id")}, sending=False)

    def _m_set_my_commands(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        self._check_scope(params)
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        clean: list[JSONDict] = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise _bad("can't parse BotCommand")
            name, desc = cmd.get("command"), cmd.get("description")
            if not isinstance(name, str) or not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(desc, str) or not 1 <= len(desc) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        with self._lock:
            self._commands[self._commands_key(params)] = clean
        return True

    def _m_delete_my_commands(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        self._check_scope(params)
        with self._lock:
            self._commands.pop(self._commands_key(params), None)
        return True

    def _m_get_my_commands(
        self, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        self._check_scope(params)
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _m_send_message(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            chat = self._resolve_chat(params)
            text, entities = self._text_of(params)
            markup = self._validate_markup(params.get("reply_markup"))
            msg = self._new_bot_message(chat)
            msg["text"] = text
            if entities:
                msg["entities"] = entities
            return self._finish_message(chat, msg, params, markup)

    def _send_media(
        self, kind: str, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> JSONDict:
        with self._lock:
            chat = self._resolve_chat(params)
            caption, cap_entities = self._caption_of(params)
            markup = self._validate_markup(params.get("reply_markup"))
            media = self._input_file(kind, params.get(kind), uploads, kind)
            msg = self._new_bot_message(chat)
            msg[kind] = media
            if caption is not None:
                msg["caption"] = caption
            if cap_entities:
                msg["caption_entities"] = cap_entities
            return self._finish_message(chat, msg, params, markup)

    def _m_send_document(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        return self._send_media("document", params, uploads)

    def _m_send_photo(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        return self._send_media("photo", params, uploads)

    def _message_to_edit(self, params: JSONDict, verb: str = "edit") -> tuple[_Chat, JSONDict]:
        if params.get("inline_message_id") is not None:
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params, sending=False)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        msg = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if msg is None:
            raise _bad(f"message to {verb} not found")
        if verb == "edit" and msg.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return chat, msg

    def _m_edit_message_text(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            _chat, msg = self._message_to_edit(params)
            if "text" not in msg:
                raise _bad("there is no text in the message to edit")
            text, entities = self._text_of(params)
            markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
            if (
                text == msg["text"]
                and entities == msg.get("entities", [])
                and markup == msg.get("reply_markup")
            ):
                raise _bad(_NOT_MODIFIED)
            msg["text"] = text
            self._set_or_drop(msg, "entities", entities)
            self._set_or_drop(msg, "reply_markup", markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _m_edit_message_reply_markup(
        self, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> JSONDict:
        with self._lock:
            _chat, msg = self._message_to_edit(params)
            markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
            if markup == msg.get("reply_markup"):
                raise _bad(_NOT_MODIFIED)
            self._set_or_drop(msg, "reply_markup", markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _m_edit_message_caption(
        self, params: JSONDict, uploads: dict[str, UploadedFile]
    ) -> JSONDict:
        with self._lock:
            _chat, msg = self._message_to_edit(params)
            if "document" not in msg and "photo" not in msg:
                raise _bad("there is no caption in the message to edit")
            caption, entities = self._caption_of(params)
            markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
            if (
                caption == msg.get("caption")
                and entities == msg.get("caption_entities", [])
                and markup == msg.get("reply_markup")
            ):
                raise _bad(_NOT_MODIFIED)
            self._set_or_drop(msg, "caption", caption)
            self._set_or_drop(msg, "caption_entities", entities)
            self._set_or_drop(msg, "reply_markup", markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _m_edit_message_media(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            # The server parses the InputMedia (and its upload) before it looks for the message.
            media = params.get("media")
            if not isinstance(media, dict) or media.get("type") not in {"document", "photo"}:
                raise _bad("can't parse InputMedia JSON object (fake supports document/photo)")
            source = media.get("media", "")
            if not isinstance(source, str):
                raise _bad('can\'t parse InputMedia: field "media" must be of type String')
            if not source or (
                source.startswith("attach://") and source[len("attach://") :] not in uploads
            ):
                raise _bad(_MEDIA_NOT_FOUND)
            _chat, msg = self._message_to_edit(params)
            if "document" not in msg and "photo" not in msg:
                raise _bad("there is no media in the message to edit")
            kind = str(media["type"])
            caption_params = {
                "caption": media.get("caption"),
                "parse_mode": media.get("parse_mode"),
                "caption_entities": media.get("caption_entities"),
            }
            caption, entities = self._caption_of(caption_params)
            markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
            old_media = msg.get("document") or msg.get("photo")
            new_media = self._input_file(
                kind, media.get("media"), uploads, "media", input_media=True
            )
            if (
                new_media == old_media
                and caption == msg.get("caption")
                and entities == msg.get("caption_entities", [])
                and markup == msg.get("reply_markup")
            ):
                raise _bad(_NOT_MODIFIED)
            msg.pop("document", None)
            msg.pop("photo", None)
            msg[kind] = new_media
            self._set_or_drop(msg, "caption", caption)
            self._set_or_drop(msg, "caption_entities", entities)
            self._set_or_drop(msg, "reply_markup", markup)
            msg["edit_date"] = int(time.time())
            return copy.deepcopy(msg)

    def _m_delete_message(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        with self._lock:
            chat, msg = self._message_to_edit(params, verb="delete")
            from_bot = msg.get("from", {}).get("id") == self.bot_id
            if not from_bot and chat.chat.get("type") != "private" and not chat.bot_is_admin:
                raise _bad("message can't be deleted")
            del chat.messages[msg["message_id"]]
            return True

    def _m_answer_callback_query(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            query = self._callback_queries.get(query_id)
            if query is None or query.answered:
                raise _bad(_QUERY_TOO_OLD)
            text = params.get("text")
            if isinstance(text, str) and len(text) > 200:
                raise _bad("MESSAGE_TOO_LONG")
            query.answered = True
            return True

    def _m_send_chat_action(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> bool:
        with self._lock:
            self._resolve_chat(params)
            if params.get("action") not in _CHAT_ACTIONS:
                raise _bad("wrong parameter action in request")
            return True

    def _m_get_file(self, params: JSONDict, uploads: dict[str, UploadedFile]) -> JSONDict:
        with self._lock:
            stored = self._files.get(str(params.get("file_id") or ""))
            if stored is None:
                raise _bad("invalid file_id")
            if stored.content is not None and len(stored.content) > MAX_DOWNLOAD_BYTES:
                raise _bad("file is too big")
            result: JSONDict = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_path": stored.file_path,
            }
            if stored.content is not None:
                result["file_size"] = len(stored.content)
            return result
