"""The fake Bot API with Telegram's parallel webhook delivery.

`FakeBotApi` posts one update at a time, in order. Telegram keeps up to `max_connections`
(40 by default) requests open at once, so updates arrive concurrently and out of order, and an
update it sends again (no 200 seen) may be handled while another copy is still in flight. This
subclass replaces the delivery thread with `delivery_workers` threads that each take the next
update not already in flight; an update leaves the queue only when its own POST got a 2xx.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from tests.fakes.botapi import FakeBotApi, JSONDict, WebhookDelivery


class ConcurrentWebhookBotApi(FakeBotApi):
    def __init__(self, *args: Any, delivery_workers: int = 8, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delivery_workers = delivery_workers
        self._in_flight: set[int] = set()  # id() of the queued update objects being posted

    def _delivery_loop(self) -> None:
        workers = [
            threading.Thread(target=self._deliver, name=f"FakeBotApi-webhook-{i}", daemon=True)
            for i in range(self.delivery_workers)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _next_free(self) -> JSONDict | None:
        for update in self._deliverable():
            if id(update) not in self._in_flight:
                return update
        return None

    def _deliver(self) -> None:
        while True:
            with self._cond:
                update = None
                while not self._stopping:
                    if self._webhook is not None:
                        update = self._next_free()
                        if update is not None:
                            break
                    self._cond.wait(0.5)
                if self._stopping or update is None:
                    return
                hook = self._webhook
                assert hook is not None
                self._in_flight.add(id(update))
                body = json.dumps(update, ensure_ascii=False).encode()
            status, error = self._post_webhook(hook.url, body, hook.secret_token)
            with self._cond:
                self._in_flight.discard(id(update))
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
                    for index, queued in enumerate(self._pending):
                        if queued is update:
                            del self._pending[index]
                            break
                else:
                    if self._webhook is hook:
                        hook.last_error_date = int(time.time())
                        hook.last_error_message = error
                    self._cond.notify_all()
                    self._cond.wait(self.webhook_retry_interval)
                self._cond.notify_all()
