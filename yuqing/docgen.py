"""Generate the reference parts of the docs from the live code, so they cannot drift:
``python -m yuqing.docgen`` rewrites docs/cli.md and docs/settings.md; a test fails when
the files differ from what this produces."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

from yuqing.cli import app
from yuqing.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"

CLI_HEADER = """# Command line reference

Generated from the live commands by `python -m yuqing.docgen`; do not edit by hand.

Every command exits with 0 when done, 1 when it failed (one line on stderr says why),
2 on a usage error, and 3 when it finished but some records were rejected: each rejected
record is printed on stderr as `line N: reason` and, with `--rejects PATH`, written to a
JSONL file of `{line, code, reason, raw}`. `ingest` ends with the summary
`read R, stored S, duplicates D, rejected X`, where S counts posts new to the store and D
the records that were already stored (same source and id), so R = S + D + X; when posts of
blocked authors were dropped (`yuqing privacy blocked`), it ends with `, blocked B` and
R = S + D + X + B.
"""


# Typer vendors its own click, so commands and parameters are read by their attributes.


def _param_rows(cmd: Any) -> list[str]:
    rows = []
    for param in cmd.params:
        if param.param_type_name == "argument":
            name = f"`{(param.name or '').upper()}`" + (" ..." if param.nargs == -1 else "")
            help_text = getattr(param, "help", "") or ""
        elif param.param_type_name == "option":
            if param.hidden or param.name == "help":
                continue
            names = [*param.opts, *param.secondary_opts]
            name = ", ".join(f"`{n}`" for n in names)
            help_text = param.help or ""
            default = param.default
            if default not in (None, False, (), []) and not param.is_flag:
                help_text += f" (default: `{default}`)"
            elif param.is_flag and param.secondary_opts:
                help_text += f" (default: `{names[0] if default else param.secondary_opts[0]}`)"
            if param.multiple:
                help_text += " (repeatable)"
        else:  # pragma: no cover
            continue
        rows.append(f"| {name} | {help_text.replace('|', '/')} |")
    return rows


def _commands(group: Any, prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None:
            continue
        full = f"{prefix} {name}"
        if hasattr(cmd, "list_commands"):
            out.extend(_commands(cmd, full))
        else:
            out.append((full, cmd))
    return out


def cli_reference() -> str:
    root = typer.main.get_command(app)
    parts = [
        CLI_HEADER,
        "## Global options\n",
        "| option | meaning |",
        "|---|---|",
        *_param_rows(root),
        "",
    ]
    for full, cmd in _commands(root, "yuqing"):
        parts += [f"## `{full}`\n", (cmd.help or "").strip(), ""]
        rows = _param_rows(cmd)
        if rows:
            parts += ["| argument / option | meaning |", "|---|---|", *rows, ""]
    return "\n".join(parts).rstrip() + "\n"


def _settings_rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(_settings_rows(annotation, f"{prefix}{name}."))
            continue
        key = f"{prefix}{name}"
        env = "YUQING_" + key.upper().replace(".", "__")
        default = field.get_default(call_default_factory=True)
        rows.append(f"| `{key}` | `{env}` | `{default!r}` | {field.description or ''} |")
    return rows


def settings_reference() -> str:
    return "\n".join(
        [
            "# Settings",
            "",
            "Generated from `yuqing.settings.Settings` by `python -m yuqing.docgen`; do not edit by hand.",
            "",
            "Read in this order, later ones winning: `yuqing.toml` in the working folder (or the file",
            "named by `--config` or `$YUQING_CONFIG`; keys at the top level or under `[yuqing]`,",
            "nested ones in their own table such as `[dedup]`), then `YUQING_*` environment",
            "variables (nested keys with a double underscore), then command-line flags such as",
            "`--store` and `--timezone`. A bad value stops the command with the file and key named.",
            "",
            "| key | environment | default | meaning |",
            "|---|---|---|---|",
            *_settings_rows(Settings, ""),
            "",
        ]
    )


def main() -> int:
    (DOCS / "cli.md").write_text(cli_reference(), encoding="utf-8")
    (DOCS / "settings.md").write_text(settings_reference(), encoding="utf-8")
    print(f"wrote {DOCS / 'cli.md'} and {DOCS / 'settings.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
