"""The user side: what tests make users do (write, press, share a location, block)."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

from tests.fakes.botapi.dispatch import Dispatch
from tests.fakes.botapi.model import (
    JSONDict,
    _CallbackQuery,
    _Chat,
    _update_type,
)


class UserSide(Dispatch):
    """Updates as users cause them, queued for getUpdates or the webhook."""

    # ---------------------------------------------------------------- user side: inject updates

    def add_raw_update(self, update: Mapping[str, Any]) -> int:
        """Queue an arbitrary update (``update_id`` is assigned unless given). Returns its id."""
        body = copy.deepcopy(dict(update))
        with self._cond:
            uid = body.pop("update_id", None)
            if not isinstance(uid, int):
                uid = self._next_update_id
            self._next_update_id = max(self._next_update_id, uid + 1)
            payload = body.get(_update_type(body))
            if isinstance(payload, dict):
                inner = payload.get("message") or {}
                for candidate in (payload.get("chat"), inner.get("chat")):
                    if (
                        isinstance(candidate, dict)
                        and isinstance(candidate.get("id"), int)
                        and candidate["id"] not in self._chats
                    ):
                        self._chats[candidate["id"]] = _Chat(chat=copy.deepcopy(candidate))
            full = {"update_id": uid, **body}
            self._pending.append(full)
            self._all_updates[uid] = full
            self._cond.notify_all()
            return uid

    def send_message(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        *,
        language_code: str | None = "en",
        chat_title: str | None = None,
        entities: list[JSONDict] | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """A user sends ``text``. ``bot_command`` entities are computed for ``/cmd`` and
        ``/cmd@botname`` tokens unless ``entities`` is given. Returns the update_id."""
        with self._cond:
            user = self._remember_user(user_id, first_name, last_name, username, language_code)
            chat = self._chat_for_user(user, chat_id, chat_type, chat_title)
            msg = self._user_message(chat, user)
            msg["text"] = text
            ents = entities if entities is not None else self._command_entities(text)
            if ents:
                msg["entities"] = copy.deepcopy(ents)
            self._attach_reply(chat, msg, reply_to_message_id)
            chat.messages[msg["message_id"]] = msg
            return self.add_raw_update({"message": msg})

    def send_media(
        self,
        user_id: int,
        content: bytes,
        *,
        kind: str = "photo",
        filename: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> int:
        """A user sends a photo (`kind` "photo", an image) or a file ("document") to the bot,
        with an optional caption. As with Telegram, the file gets a file_id the bot can send
        again (sendPhoto / sendDocument by id); a photo that is no image is refused. Returns
        the update_id."""
        with self._cond:
            user = self._remember_user(user_id, None, None, None, "en")
            chat = self._chat_for_user(user, None, "private", None)
            msg = self._user_message(chat, user)
            if kind == "photo":
                msg["photo"] = copy.deepcopy(self._store_photo(content).obj)
            else:
                msg["document"] = copy.deepcopy(
                    self._store_document(content, filename, mime_type).obj
                )
            if caption:
                msg["caption"] = caption
            chat.messages[msg["message_id"]] = msg
            return self.add_raw_update({"message": msg})

    def press_button(
        self,
        user_id: int,
        message_id: int,
        chat_id: int,
        data: str,
        *,
        first_name: str | None = None,
        username: str | None = None,
        check_button: bool = True,
    ) -> int:
        """A user presses an inline button with ``callback_data == data`` under the bot message
        ``message_id`` in ``chat_id``. Returns the update_id."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise ValueError(f"unknown chat {chat_id}")
            msg = chat.messages.get(message_id)
            if msg is None:
                raise ValueError(
                    f"no message {message_id} in chat {chat_id}; known: {sorted(chat.messages)}"
                )
            if check_button:
                available = [
                    b.get("callback_data")
                    for row in (msg.get("reply_markup") or {}).get("inline_keyboard", [])
                    for b in row
                ]
                if data not in available:
                    raise ValueError(
                        f"message {message_id} in chat {chat_id} has no button with callback_data"
                        f" {data!r}; available: {available}"
                    )
            user = self._remember_user(user_id, first_name, None, username, None)
            self._callback_counter += 1
            cq_id = str(4_000_000_000_000_000 + self._callback_counter)
            update = {
                "callback_query": {
                    "id": cq_id,
                    "from": user,
                    "message": copy.deepcopy(msg),
                    "chat_instance": str(abs(chat_id) * 7919 + 1),
                    "data": data,
                }
            }
            uid = self.add_raw_update(update)
            self._callback_queries[cq_id] = _CallbackQuery(id=cq_id, update_id=uid)
            return uid

    def send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        chat_type: str = "private",
        *,
        live_period: int | None = None,
        horizontal_accuracy: float | None = None,
        heading: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """A user shares a (live, if ``live_period``) location. Returns the update_id."""
        with self._cond:
            user = self._remember_user(user_id, first_name, None, username, None)
            chat = self._chat_for_user(user, chat_id, chat_type, None)
            msg = self._user_message(chat, user)
            location: JSONDict = {"latitude": latitude, "longitude": longitude}
            for key, value in (
                ("horizontal_accuracy", horizontal_accuracy),
                ("live_period", live_period),
                ("heading", heading),
            ):
                if value is not None:
                    location[key] = value
            msg["location"] = location
            self._attach_reply(chat, msg, reply_to_message_id)
            chat.messages[msg["message_id"]] = msg
            return self.add_raw_update({"message": msg})

    def send_document(
        self,
        user_id: int,
        content: bytes,
        filename: str,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
        first_name: str | None = None,
    ) -> int:
        """A user sends a file (in their private chat); the bot may fetch it with getFile
        and download it from the file URL, as from Telegram. Returns the update_id."""
        with self._cond:
            user = self._remember_user(user_id, first_name, None, None, None)
            chat = self._chat_for_user(user, None, "private", None)
            msg = self._user_message(chat, user)
            stored = self._store_document(content, filename, mime_type)
            msg["document"] = copy.deepcopy(stored.obj)
            if caption:
                msg["caption"] = caption
            chat.messages[msg["message_id"]] = msg
            return self.add_raw_update({"message": msg})

    def block_bot(self, user_id: int, blocked: bool = True, *, inject_update: bool = True) -> int:
        """The user blocks (or unblocks) the bot: sends to them fail with 403 afterwards.
        Injects a ``my_chat_member`` update unless ``inject_update`` is false (returns -1)."""
        with self._cond:
            user = self._remember_user(user_id, None, None, None, None)
            chat = self._chat_for_user(user, None, "private", None)
            chat.blocked = blocked
            if not inject_update:
                return -1
            member = {"status": "member", "user": self.bot_user}
            kicked = {"status": "kicked", "user": self.bot_user, "until_date": 0}
            return self.add_raw_update(
                {
                    "my_chat_member": {
                        "chat": copy.deepcopy(chat.chat),
                        "from": user,
                        "date": int(time.time()),
                        "old_chat_member": member if blocked else kicked,
                        "new_chat_member": kicked if blocked else member,
                    }
                }
            )

    def register_chat(
        self,
        chat_id: int,
        chat_type: str = "private",
        *,
        title: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        bot_is_admin: bool = False,
    ) -> JSONDict:
        """Make a chat known to the fake (as if the user had started the bot)."""
        with self._cond:
            if chat_type == "private":
                user = self._remember_user(chat_id, first_name, last_name, username, None)
                chat = self._chat_for_user(user, chat_id, "private", None)
            else:
                chat = self._chats.get(chat_id) or _Chat(
                    chat={"id": chat_id, "type": chat_type, "title": title or "Test Group"}
                )
                if username:
                    chat.chat["username"] = username
                self._chats[chat_id] = chat
            chat.bot_is_admin = bot_is_admin
            return copy.deepcopy(chat.chat)

    def register_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """Make a user known to the fake *without* a private chat (seen in a group, say).

        Like Telegram, sending to them then fails with 403 "bot can't initiate conversation
        with a user" until they write to the bot privately.
        """
        with self._cond:
            return self._remember_user(user_id, first_name, last_name, username, None)

    def file_content(self, file_id: str) -> bytes | None:
        """The bytes the bot uploaded for `file_id` (None for a URL the fake never fetched)."""
        with self._lock:
            stored = self._files.get(file_id)
            return None if stored is None else stored.content

    def ensure_bot_message(self, chat_id: int, message_id: int | None, text: str) -> JSONDict:
        """The bot's message `message_id` in `chat_id`, created with `text` if missing, or a
        new one if `message_id` is None (for tests that press buttons on a message they did
        not have the bot send)."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None:
                self.register_chat(chat_id)
                chat = self._chats[chat_id]
            if message_id is None:
                message_id = chat.new_message_id()
            msg = chat.messages.get(message_id)
            if msg is None:
                msg = {
                    "message_id": message_id,
                    "from": self.bot_user,
                    "chat": copy.deepcopy(chat.chat),
                    "date": int(time.time()),
                    "text": text,
                }
                chat.messages[message_id] = msg
                chat.next_message_id = max(chat.next_message_id, message_id + 1)
            return copy.deepcopy(msg)
