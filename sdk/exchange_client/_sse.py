"""Server-Sent Events, without I/O: lines in, events out (the WHATWG parsing rules that the
exchange's stream uses: ``id``, ``event``, ``data``, comment lines, a blank line ends an event)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["ServerSentEvent", "SseParser"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    id: str | None
    event: str
    data: str


class SseParser:
    """Feed it the stream's lines (without their line break); it yields each complete event."""

    def __init__(self) -> None:
        self._id: str | None = None
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> Iterator[ServerSentEvent]:
        if not line:
            if self._data:
                yield ServerSentEvent(self._id, self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
