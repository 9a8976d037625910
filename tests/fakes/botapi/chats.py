"""Chats, users and the messages the fake builds and checks (markup, text, files)."""

from __future__ import annotations

import copy
import json
import mimetypes
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from tests.fakes.botapi.formatting import parse_formatted_text
from tests.fakes.botapi.model import (
    _COMMAND_RE,
    _INLINE_BUTTON_ACTIONS,
    _MEDIA_NOT_FOUND,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_INLINE_BUTTONS,
    MAX_TEXT_LENGTH,
    ApiError,
    JSONDict,
    UploadedFile,
    _bad,
    _Chat,
    _StoredFile,
    _utf16_len,
)
from tests.fakes.botapi.state import FakeState
from tests.fakes.botapi.uploads import _image_size


class Chats(FakeState):
    """Who is known, which chats exist, and messages as Telegram stores them."""

    # ---------------------------------------------------------------- chats / users helpers

    def _remember_user(
        self,
        user_id: int,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> JSONDict:
        user = dict(self._users.get(user_id) or {"id": user_id, "is_bot": False})
        user["first_name"] = first_name or user.get("first_name") or f"User{user_id}"
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        self._users[user_id] = user
        return copy.deepcopy(user)

    def _chat_for_user(
        self, user: JSONDict, chat_id: int | None, chat_type: str, chat_title: str | None
    ) -> _Chat:
        if chat_type == "private":
            if chat_id is not None and chat_id != user["id"]:
                raise ValueError("a private chat's id equals the user's id")
            cid = int(user["id"])
            chat_json: JSONDict = {"id": cid, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat_json[key] = user[key]
        else:
            if chat_id is None:
                raise ValueError(f"chat_id is required for chat_type={chat_type!r}")
            cid = chat_id
            existing = self._chats.get(cid)
            title = chat_title or (existing.chat.get("title") if existing else None)
            chat_json = {"id": cid, "type": chat_type, "title": title or "Test Group"}
        chat = self._chats.get(cid)
        if chat is None:
            chat = self._chats[cid] = _Chat(chat=chat_json)
        else:
            chat.chat.update(chat_json)
        return chat

    def _user_message(self, chat: _Chat, user: JSONDict) -> JSONDict:
        return {
            "message_id": chat.new_message_id(),
            "from": copy.deepcopy(user),
            "chat": copy.deepcopy(chat.chat),
            "date": int(time.time()),
        }

    def _attach_reply(self, chat: _Chat, msg: JSONDict, reply_to: int | None) -> None:
        if reply_to is None:
            return
        target = chat.messages.get(reply_to)
        if target is None:
            raise ValueError(f"no message {reply_to} in chat {chat.id} to reply to")
        msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}

    def _command_entities(self, text: str) -> list[JSONDict]:
        return [
            {
                "type": "bot_command",
                "offset": _utf16_len(text[: m.start()]),
                "length": _utf16_len(m.group(0)),
            }
            for m in _COMMAND_RE.finditer(text)
        ]

    def _resolve_chat(self, params: JSONDict, *, sending: bool = True) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        cid: int | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            for known in self._chats.values():
                if str(known.chat.get("username", "")).lower() == raw[1:].lower():
                    cid = known.id
                    break
            if cid is None:
                raise _bad("chat not found")
        elif isinstance(raw, int) and not isinstance(raw, bool):
            cid = raw
        elif isinstance(raw, str):
            try:
                cid = int(raw)
            except ValueError as exc:
                raise _bad("chat not found") from exc
        else:
            raise _bad("chat not found")
        chat = self._chats.get(cid)
        if chat is None:
            if self.strict_chats and sending and cid in self._users:
                # Telegram knows this user (seen in a group, say) but they never opened a
                # private chat with the bot: a bot cannot write first.
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            if self.strict_chats:
                raise _bad("chat not found")
            if cid > 0:
                user = self._remember_user(cid, None, None, None, None)
                chat = self._chat_for_user(user, cid, "private", None)
            else:
                kind = "supergroup" if str(cid).startswith("-100") else "group"
                chat = self._chats[cid] = _Chat(
                    chat={"id": cid, "type": kind, "title": "Test Group"}
                )
        if sending and chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _new_bot_message(self, chat: _Chat) -> JSONDict:
        return {
            "message_id": chat.new_message_id(),
            "from": self.bot_user,
            "chat": copy.deepcopy(chat.chat),
            "date": int(time.time()),
        }

    @staticmethod
    def _validate_markup(raw: Any, *, inline_only: bool = False) -> JSONDict | None:
        """Validate reply_markup; returns the inline keyboard to store/echo, else ``None``."""
        if raw is None:
            return None
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise _bad("can't parse reply keyboard markup JSON object") from exc
        if not isinstance(raw, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in raw:
            rows = raw["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'can\'t parse inline keyboard button: Field "inline_keyboard" must '
                    "be an Array of Arrays"
                )
            for row in rows:
                for button in row:
                    Chats._validate_inline_button(button)
            if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
                raise _bad("reply markup is too long")
            return {"inline_keyboard": copy.deepcopy(rows)}
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in raw:
            rows = raw["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'can\'t parse keyboard button: Field "keyboard" must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    text = button if isinstance(button, str) else (button or {}).get("text")
                    if not isinstance(text, str) or not text:
                        raise _bad("can't parse keyboard button: Text must be non-empty")
            return None
        if raw.get("remove_keyboard") is True or raw.get("force_reply") is True:
            return None
        raise _bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _validate_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        if not isinstance(button.get("text"), str):
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        actions = [key for key in _INLINE_BUTTON_ACTIONS if key in button]
        if not actions:
            raise _bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if len(actions) > 1:
            raise _bad(
                "can't parse inline keyboard button: exactly one of the optional fields "
                f"must be used, got {actions}"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            scheme = urllib.parse.urlsplit(url).scheme if isinstance(url, str) else ""
            if scheme not in {"http", "https", "tg"}:
                raise _bad("BUTTON_URL_INVALID")

    def _formatted(
        self, text: str, params: JSONDict, entities_key: str, limit: int, too_long: str
    ) -> tuple[str, list[JSONDict]]:
        parse_mode = params.get("parse_mode")
        plain, entities = parse_formatted_text(
            text, parse_mode if isinstance(parse_mode, str) else None, params.get(entities_key)
        )
        if _utf16_len(plain) > limit:
            raise _bad(too_long)
        return plain, entities

    def _text_of(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        text = params.get("text")
        if text is None or not str(text).strip():
            raise _bad("message text is empty")
        plain, entities = self._formatted(
            str(text), params, "entities", MAX_TEXT_LENGTH, "message is too long"
        )
        if not plain.strip():
            raise _bad("message text is empty")
        return plain, entities

    def _caption_of(self, params: JSONDict) -> tuple[str | None, list[JSONDict]]:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None, []
        plain, entities = self._formatted(
            str(caption),
            params,
            "caption_entities",
            MAX_CAPTION_LENGTH,
            "message caption is too long",
        )
        return plain, entities

    def _apply_reply_parameters(self, chat: _Chat, params: JSONDict, msg: JSONDict) -> None:
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            try:
                reply = json.loads(reply)
            except ValueError as exc:
                raise _bad("can't parse reply parameters JSON object") from exc
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if not isinstance(reply, dict):
            return
        reply_id = reply.get("message_id")
        target = chat.messages.get(reply_id) if isinstance(reply_id, int) else None
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return
            raise _bad("message to be replied not found")
        msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}

    def _finish_message(
        self, chat: _Chat, msg: JSONDict, params: JSONDict, markup: JSONDict | None
    ) -> JSONDict:
        if markup is not None:
            msg["reply_markup"] = markup
        self._apply_reply_parameters(chat, params, msg)
        if params.get("message_thread_id") is not None:
            msg["message_thread_id"] = params["message_thread_id"]
        chat.messages[msg["message_id"]] = msg
        return copy.deepcopy(msg)

    @staticmethod
    def _set_or_drop(msg: JSONDict, key: str, value: Any) -> None:
        if value:
            msg[key] = value
        else:
            msg.pop(key, None)

    # ---------------------------------------------------------------- files

    def _next_file_ids(self, prefix: str) -> tuple[str, str, int]:
        self._file_counter += 1
        n = self._file_counter
        return f"{prefix}{n:06d}{random.getrandbits(48):012x}", f"AgAD{n:06d}", n

    def _store_document(
        self, content: bytes, filename: str | None, mime: str | None
    ) -> _StoredFile:
        file_id, unique, n = self._next_file_ids("BQACAgIAAxkBAAI")
        ext = ""
        if filename and "." in filename:
            ext = "." + filename.rsplit(".", 1)[1]
        obj: JSONDict = {"file_id": file_id, "file_unique_id": unique, "file_size": len(content)}
        if filename:
            obj["file_name"] = filename
        if mime:
            obj["mime_type"] = mime
        stored = _StoredFile(
            file_id, unique, content, filename, mime, f"documents/file_{n}{ext}", obj
        )
        self._files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, content: bytes) -> _StoredFile:
        size = _image_size(content)
        if size is None:
            raise _bad("IMAGE_PROCESS_FAILED")
        width, height = size
        file_id, unique, n = self._next_file_ids("AgACAgIAAxkBAAI")
        sizes: list[JSONDict] = []
        scale = min(1.0, 90 / max(width, height, 1))
        if scale < 1.0:
            sizes.append(
                {
                    "file_id": file_id + "_s",
                    "file_unique_id": unique + "_s",
                    "width": max(1, int(width * scale)),
                    "height": max(1, int(height * scale)),
                    "file_size": max(1, len(content) // 10),
                }
            )
        sizes.append(
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": width,
                "height": height,
                "file_size": len(content),
            }
        )
        stored = _StoredFile(
            file_id, unique, content, None, "image/jpeg", f"photos/file_{n}.jpg", sizes
        )
        self._files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        for extra in sizes[:-1]:
            self._files[extra["file_id"]] = stored
        return stored

    def _input_file(
        self,
        kind: str,
        value: Any,
        uploads: dict[str, UploadedFile],
        field_name: str,
        *,
        input_media: bool = False,
    ) -> Any:
        """Resolve a document/photo parameter (upload, attach://, file_id or URL) to its JSON.

        As telegram-bot-api's ``Client::get_input_file``: ``attach://<name>`` names a part of
        the multipart upload; an empty value means "the upload whose field is the parameter's
        name", which an ``InputMedia`` object has not got (its ``media`` must be a URL, a
        file id or an ``attach://`` name present in the upload, else "media not found").
        """
        upload: UploadedFile | None = None
        missing = _MEDIA_NOT_FOUND if input_media else f"there is no {kind} in the request"
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad(missing)
        elif value is None or value == "":
            upload = None if input_media else uploads.get(field_name)
            if upload is None:
                raise _bad(missing)
        if upload is not None:
            if not upload.content:
                raise _bad("file must be non-empty")
            if kind == "photo":
                return self._store_photo(upload.content).obj
            mime = upload.content_type or mimetypes.guess_type(upload.filename)[0]
            return self._store_document(upload.content, upload.filename, mime).obj
        if not isinstance(value, str) or not value:
            raise _bad("wrong file identifier/HTTP URL specified")
        stored = self._files.get(value)
        if stored is not None:
            if kind == "photo" and not isinstance(stored.obj, list):
                raise _bad("can't use file of type Document as Photo")
            if kind == "document" and isinstance(stored.obj, list):
                raise _bad("can't use file of type Photo as Document")
            return copy.deepcopy(stored.obj)
        if value.startswith(("http://", "https://")):
            name = urllib.parse.urlsplit(value).path.rsplit("/", 1)[-1] or "file"
            if kind == "photo":
                return self._store_photo(b"\x89PNG\r\n\x1a\n" + bytes(8) + bytes(16)).obj
            stored = self._store_document(b"", name, mimetypes.guess_type(name)[0])
            stored.content = None
            return copy.deepcopy(stored.obj)
        raise _bad("wrong file identifier/HTTP URL specified")
