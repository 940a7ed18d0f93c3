"""The reference docs are generated from the live code; they must be up to date."""

from __future__ import annotations

from pathlib import Path

from yuqing.docgen import cli_reference, settings_reference

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == cli_reference(), (
        "docs/cli.md is stale: run `python -m yuqing.docgen`"
    )


def test_settings_reference_is_current() -> None:
    assert (DOCS / "settings.md").read_text(encoding="utf-8") == settings_reference(), (
        "docs/settings.md is stale: run `python -m yuqing.docgen`"
    )


def test_readme_has_two_command_quick_start() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert commands == ["./scripts/dev.sh demo", "./scripts/dev.sh test"]
    ci = (DOCS.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "./scripts/dev.sh test" in ci
