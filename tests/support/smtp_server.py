"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests, keeping what it receives."""

from __future__ import annotations

from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Iterator

from aiosmtpd.controller import Controller

from harness.ports import free_port  # noqa: F401 - tests import it from here too


class Inbox:
    """Messages received, parsed with the modern e-mail policy; the first ``fail_first`` are
    refused with a transient 451 (a server that is unwell for a moment)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.fail_first, self.refused = fail_first, 0

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.fail_first:
            self.refused += 1
            return "451 4.3.0 Try again later"
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


@contextmanager
def smtp_server(port: int | None = None, *, fail_first: int = 0,
                handler: Inbox | None = None) -> Iterator[tuple[Inbox, int]]:
    """Run a server on ``port`` (a free one by default) for the block; ``handler``: an Inbox
    that also acts on what arrives."""
    inbox, port = handler or Inbox(fail_first), port or free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
