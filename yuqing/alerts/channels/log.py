"""The log channel: one JSON line per alert, to a file or to the Python logger.

The simplest channel that always works: useful alone on a laptop, and beside the others
as a local record of what was raised.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import orjson

from yuqing.alerts.alert import Alert
from yuqing.alerts.channels.base import ConfigReader, DeliveryResult

LOGGER = "yuqing.alerts"


class LogChannel:
    """Append each alert's payload as one JSON line to ``path``, or log it to ``logger``."""

    kind = "log"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        name: str = "log",
        logger: str = LOGGER,
        level: int = logging.WARNING,
    ) -> None:
        self.name = name
        self.path = Path(path) if path is not None else None
        self._logger = logging.getLogger(logger)
        self._level = level
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LogChannel:
        name = str(config.get("name") or "log")
        r = ConfigReader(config, f"alert channel {name!r} (log)", ("path", "logger"))
        return cls(r.text("path"), name=name, logger=r.text("logger", LOGGER) or LOGGER)

    def send(self, alert: Alert) -> DeliveryResult:
        line = orjson.dumps(alert.as_payload())
        if self.path is None:
            self._logger.log(self._level, "%s", line.decode("utf-8"))
            return DeliveryResult.success()
        try:
            with self._lock:
                if self._file is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._file = self.path.open("ab")
                self._file.write(line + b"\n")
                self._file.flush()
        except OSError as exc:
            return DeliveryResult.failure(
                f"log {self.name!r}: cannot write {self.path}: {exc.strerror or exc}",
                retryable=True,
            )
        return DeliveryResult.success()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
