"""A minimal SMTP server for tests: speaks EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.

It keeps every accepted message, or answers MAIL FROM with a temporary failure when told to.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Sink:
    messages: list[Received] = field(default_factory=list)
    refuse: bool = False  # answer MAIL FROM with 451: the sender must retry later
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, received: Received) -> None:
        with self.lock:
            self.messages.append(received)


class Handler(socketserver.StreamRequestHandler):
    server: SinkServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        sink = self.server.sink
        self.reply("220 sink ready")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                if sink.refuse:
                    self.reply("451 try again later")
                    continue
                sender, recipients = command.partition(":")[2].strip(" <>"), []
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip(" <>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with .")
                data = self.read_data()
                parsed = message_from_bytes(data, policy=policy.default)
                sink.keep(Received(sender, recipients, parsed))  # type: ignore[arg-type]
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # RSET, NOOP
                self.reply("250 ok")

    def read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # dot-unstuffing
        return b"".join(lines)


class SinkServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, sink: Sink) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.sink = sink

    @property
    def port(self) -> int:
        return self.server_address[1]
