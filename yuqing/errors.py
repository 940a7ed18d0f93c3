"""The whole exception tree of yuqing.

    YuqingError                  root: the CLI prints one line and exits 1
    ├── ConfigError              bad settings, yuqing.toml, environment or flags
    ├── UsageError               a command used wrongly (the CLI exits 2)
    ├── SourceError              a source cannot be opened or read at all
    ├── RecordError              one input record is rejected (carries line, code, reason)
    ├── StoreError               the store failed
    │   ├── StoreURLError        a store or stream URL that cannot be understood
    │   └── MigrationError       the schema cannot be brought up to date
    ├── PipelineError            a stage failed on a batch
    └── ModelError               a trained model is missing or broken

Third-party errors are translated at the boundary: ``raise SourceError(...) from exc``.
"""

from __future__ import annotations


class YuqingError(Exception):
    """Root of every error yuqing raises on purpose."""


class ConfigError(YuqingError):
    """Settings could not be read or are invalid."""


class UsageError(YuqingError):
    """A command was called with arguments that cannot work."""


class SourceError(YuqingError):
    """A whole source (file, feed, page) cannot be opened or read."""


class RecordError(YuqingError):
    """One input record is rejected; the rest of the batch goes on.

    ``code`` is a short machine-readable tag (``json``, ``missing_text``, ``bad_date``, ...),
    ``reason`` a sentence for people, ``line`` the 1-based physical line where it starts.
    """

    def __init__(self, code: str, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.line = line

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.reason}"


class StoreError(YuqingError):
    """The store could not do what was asked."""


class StoreURLError(StoreError):
    """A store or stream URL that yuqing does not understand."""


class MigrationError(StoreError):
    """The store schema could not be migrated."""


class PipelineError(YuqingError):
    """A pipeline stage failed on a batch."""


class ModelError(YuqingError):
    """A trained model artifact is missing, incompatible or broken."""
