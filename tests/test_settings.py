from __future__ import annotations

from pathlib import Path

import pytest

from yuqing.errors import ConfigError
from yuqing.settings import load_settings


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={})
    assert s.store == "sqlite:///yuqing.db"
    assert s.timezone == "Asia/Shanghai"
    assert s.dedup.shingle >= 1


def test_layering_file_env_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "yuqing.toml"
    cfg.write_text(
        'store = "sqlite:///a.db"\nbatch_size = 10\n[dedup]\njaccard = 0.7\n', encoding="utf-8"
    )
    s = load_settings(cfg, environ={})
    assert (s.store, s.batch_size, s.dedup.jaccard) == ("sqlite:///a.db", 10, 0.7)
    env = {"YUQING_STORE": "sqlite:///b.db", "YUQING_DEDUP__JACCARD": "0.8"}
    s = load_settings(cfg, environ=env)
    assert (s.store, s.batch_size, s.dedup.jaccard) == ("sqlite:///b.db", 10, 0.8)
    s = load_settings(cfg, environ=env, overrides={"store": "sqlite:///c.db", "timezone": None})
    assert s.store == "sqlite:///c.db"
    assert s.timezone == "Asia/Shanghai"


def test_yuqing_section_is_accepted(tmp_path: Path) -> None:
    cfg = tmp_path / "yuqing.toml"
    cfg.write_text('[yuqing]\ntimezone = "Asia/Hong_Kong"\n', encoding="utf-8")
    assert load_settings(cfg, environ={}).timezone == "Asia/Hong_Kong"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("timezone = 'Mars/Base'", "unknown time zone"),
        ("batch_size = 0", "batch_size"),
        ("no_such_setting = 1", "no_such_setting"),
        ("store = ", "not valid TOML"),
    ],
)
def test_bad_settings_say_what_and_where(tmp_path: Path, text: str, needle: str) -> None:
    cfg = tmp_path / "yuqing.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, environ={})
    assert needle in str(info.value)
    assert "yuqing.toml" in str(info.value)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})
