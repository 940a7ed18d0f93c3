"""``yuqing doctor``: check the installation and say what to fix.

Each check gives one line: ``✓`` passed, ``✗`` failed (a required check: the command exits
1), ``!`` a warning (worth fixing, not required), ``-`` skipped (not configured), then what
was found and, for ✗ and !, how to fix it. The checks, in order:

============ ========= =============================================================
check        required  what
============ ========= =============================================================
Python       yes       version 3.11 or newer
settings     yes       yuqing.toml (or --config, $YUQING_CONFIG) and YUQING_* are valid
models       yes       the shipped sentiment, emotion and rumour artifacts and the
                       gazetteer load
store        yes       the store opens; its schema version against this code's (older:
                       a warning, migrated on the next open; newer: upgrade yuqing)
Redis        if given  the stream's Redis answers PING (``--stream`` or a configured
                       ``stream`` setting)
CJK fonts    yes       ``fc-list :lang=zh`` finds a Chinese font (PDF briefings)
WeasyPrint   yes       WeasyPrint and the Pango library import (PDF briefings)
Chromium     no        /usr/bin/chromium (only the browser tests need it)
disk         yes       free space in the store's folder above ``min_free_bytes``
============ ========= =============================================================

Nothing is changed: a SQLite file that does not exist is not created.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from yuqing.errors import ConfigError, YuqingError
from yuqing.settings import Settings, load_settings

Status = Literal["ok", "fail", "warn", "skip"]
MARKS: dict[Status, str] = {"ok": "✓", "fail": "✗", "warn": "!", "skip": "-"}
CHROMIUM = Path("/usr/bin/chromium")
MODEL_TASKS = ("sentiment", "emotion", "rumor")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: its name, status, what was found and (when not ok) how to fix it."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def line(self) -> str:
        text = f"{MARKS[self.status]} {_pad(self.name, 11)} {self.detail}"
        return f"{text} — 修复：{self.fix}" if self.fix and self.status != "ok" else text


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a CJK character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def check_python(version: tuple[int, int] | None = None) -> CheckResult:
    found = version or (sys.version_info.major, sys.version_info.minor)
    text = f"{found[0]}.{found[1]} ({platform.python_implementation()})"
    if found >= (3, 11):
        return CheckResult("Python", "ok", text)
    return CheckResult("Python", "fail", text, "install Python 3.11 or newer and reinstall yuqing")


def check_settings(config: Path | None, store: str | None) -> tuple[CheckResult, Settings]:
    """The settings as the other commands read them; defaults when they are invalid."""
    overrides = {"store": store} if store else {}
    try:
        settings = load_settings(config, overrides=overrides)
    except ConfigError as exc:
        fallback = Settings.model_validate(overrides)
        return CheckResult(
            "设置", "fail", str(exc), "correct the file or the YUQING_* variable named"
        ), fallback
    named = config or os.environ.get("YUQING_CONFIG")
    if named is None and not Path("yuqing.toml").is_file():
        where = "defaults and YUQING_* variables"
    else:
        where = str(named or "yuqing.toml")
    return CheckResult("设置", "ok", f"valid ({where}); store {settings.store}"), settings


def check_models() -> CheckResult:
    from yuqing.analysis.regions import Gazetteer
    from yuqing.analysis.textmodel import load_model

    versions = []
    try:
        for task in MODEL_TASKS:
            versions.append(f"{task} {load_model(task).version}")
        gazetteer = Gazetteer.load()
    except YuqingError as exc:
        return CheckResult(
            "模型",
            "fail",
            str(exc),
            "reinstall yuqing (pip install --force-reinstall) or rebuild "
            "the artifact with `yuqing train TASK`",
        )
    return CheckResult(
        "模型", "ok", f"{', '.join(versions)}; gazetteer {len(gazetteer.divisions):,} divisions"
    )


def check_store(url: str) -> CheckResult:
    from yuqing.store.backup import code_version, read_schema_version

    try:
        found = read_schema_version(url)
        latest = code_version(url)
    except YuqingError as exc:
        return CheckResult(
            "存储",
            "fail",
            str(exc),
            "check --store / the store setting and that the database is running and reachable",
        )
    if found is None:
        return CheckResult(
            "存储",
            "warn",
            f"{url}: no store yet",
            "`yuqing db migrate` (or the first ingest) creates it",
        )
    if found == latest:
        return CheckResult("存储", "ok", f"{url}: schema version {found} (current)")
    if found < latest:
        return CheckResult(
            "存储",
            "warn",
            f"{url}: schema version {found}, this yuqing's is {latest}",
            "back up (`yuqing db backup FILE`), then `yuqing db migrate`",
        )
    return CheckResult(
        "存储",
        "fail",
        f"{url}: schema version {found} is newer than this yuqing's {latest}",
        "upgrade yuqing to the release that wrote this store",
    )


def check_redis(stream: str | None) -> CheckResult:
    if not stream:
        return CheckResult("Redis", "skip", "no stream given (only server mode needs one)")
    import redis

    from yuqing.streams.url import parse_stream_url

    try:
        parsed = parse_stream_url(stream)
        client = redis.Redis.from_url(parsed.redis_url, socket_timeout=3, socket_connect_timeout=3)
        try:
            client.ping()
            version = str(client.info("server").get("redis_version", "?"))
        finally:
            client.close()
    except (YuqingError, redis.RedisError, OSError) as exc:
        return CheckResult(
            "Redis",
            "fail",
            f"{stream}: {exc}",
            "start Redis (apt install redis-server; "
            "systemctl start redis-server) or correct --stream",
        )
    return CheckResult("Redis", "ok", f"{parsed.redis_url} answers (Redis {version})")


def check_fonts(run: Callable[[list[str]], str] | None = None) -> CheckResult:
    fix = "apt install fonts-noto-cjk (PDF briefings need a Chinese font)"
    try:
        out = (run or _run)(["fc-list", ":lang=zh", "family"])
    except (OSError, subprocess.SubprocessError) as exc:
        return CheckResult(
            "CJK 字体", "fail", f"fc-list did not run: {exc}", "apt install fontconfig; " + fix
        )
    families = sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})
    if not families:
        return CheckResult("CJK 字体", "fail", "no Chinese font found", fix)
    shown = ", ".join(families[:3]) + (f" (+{len(families) - 3})" if len(families) > 3 else "")
    return CheckResult("CJK 字体", "ok", shown)


def _run(args: list[str]) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=30).stdout


def check_weasyprint() -> CheckResult:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        return CheckResult(
            "WeasyPrint",
            "fail",
            f"cannot import: {exc}",
            "pip install weasyprint; apt install libpango-1.0-0 libpangoft2-1.0-0",
        )
    return CheckResult("WeasyPrint", "ok", f"{weasyprint.__version__} with Pango")


def check_chromium(path: Path = CHROMIUM) -> CheckResult:
    found = path if path.exists() else None
    if found is None:
        return CheckResult(
            "Chromium",
            "warn",
            f"{path} is absent (only the browser tests need it)",
            "apt install chromium",
        )
    return CheckResult("Chromium", "ok", str(found))


def store_folder(url: str) -> Path:
    """The folder that holds a SQLite store (the working folder for other stores)."""
    if url.lower().startswith("sqlite:///") and not url.endswith(":memory:"):
        return Path(url[len("sqlite:///") :]).resolve().parent
    return Path.cwd()


def check_disk(folder: Path, min_free_bytes: int) -> CheckResult:
    try:
        usage = shutil.disk_usage(folder)
    except OSError as exc:
        return CheckResult("磁盘", "fail", f"{folder}: {exc}", "create the store's folder")
    free = f"{usage.free / 1024**3:,.1f} GiB free of {usage.total / 1024**3:,.1f} GiB in {folder}"
    if usage.free < min_free_bytes:
        need = f"{min_free_bytes / 1024**3:,.1f} GiB"
        return CheckResult(
            "磁盘", "fail", free, f"free space (at least {need}) or move the store to a larger disk"
        )
    return CheckResult("磁盘", "ok", free)


def run_checks(
    config: Path | None,
    store: str | None,
    *,
    stream: str | None = None,
    min_free_bytes: int = 1024**3,
) -> list[CheckResult]:
    """Every check, in the order of the module docstring."""
    settings_result, settings = check_settings(config, store)
    stream = stream or getattr(settings, "stream", None)
    return [
        check_python(),
        settings_result,
        check_models(),
        check_store(settings.store),
        check_redis(stream),
        check_fonts(),
        check_weasyprint(),
        check_chromium(),
        check_disk(store_folder(settings.store), min_free_bytes),
    ]


def render(results: Iterable[CheckResult]) -> list[str]:
    """One line per check, then a summary line."""
    results = list(results)
    lines = [r.line() for r in results]
    counts = {s: sum(1 for r in results if r.status == s) for s in MARKS}
    lines.append(
        f"{counts['ok']} 项通过，{counts['fail']} 项失败，{counts['warn']} 项警告，"
        f"{counts['skip']} 项跳过"
    )
    return lines
