"""Generate the command-line reference from the argparse parser and the exit codes.

Every subcommand registered in :func:`necc_bayes.cli.main.build_parser` gets a section with
its usage line, description and a table of its arguments (flags, value, default, help),
nested subcommands included (``cache info``); the exit codes are the ``EXIT_*`` constants of
:mod:`necc_bayes.errors` with their docstrings. ``make docs`` renders the page through the
mkdocs hook; ``python scripts/docs/cli_reference.py`` prints it.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import os
import re

from necc_bayes import errors
from necc_bayes.cli.main import build_parser

WIDTH = 100
"""Usage lines are wrapped as in a 100-column terminal (the same on every machine)."""


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser's subcommands by name, in registration order (empty if it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_help(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The one-line ``help`` of each subcommand (what ``necc-bayes --help`` lists)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: a.help or "" for a in action._choices_actions}
    return {}


def all_commands(parser: argparse.ArgumentParser | None = None, prefix: str = "") -> list[str]:
    """Every subcommand path, nested ones included: ``["reproduce", ..., "cache info"]``."""
    parser = parser or build_parser()
    out = []
    for name, sub in subcommands(parser).items():
        path = f"{prefix}{name}"
        out.append(path)
        out += all_commands(sub, prefix=path + " ")
    return out


def _usage(parser: argparse.ArgumentParser) -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        return parser.format_usage().strip()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _value(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return " \\| ".join(f"`{c}`" for c in action.choices)
    metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    if action.nargs in ("+", "*"):
        return f"`{metavar} ...`"
    return f"`{metavar}`"


def _default(action: argparse.Action) -> str:
    if action.required or action.nargs == 0 or action.default in (None, argparse.SUPPRESS):
        return "**required**" if action.required else ""
    return f"`{action.default}`"


def argument_rows(parser: argparse.ArgumentParser) -> list[str]:
    """Markdown table rows of a parser's arguments (positional first, then options)."""
    rows = ["| argument | value | default | meaning |", "| --- | --- | --- | --- |"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        name = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.dest}`"
        default = "**required**" if not action.option_strings and action.nargs != "?" else (
            _default(action)
        )
        rows.append(f"| {name} | {_value(action)} | {default} | {_md(action.help or '')} |")
    return rows if len(rows) > 2 else []


def exit_codes() -> list[tuple[str, int, str]]:
    """``(name, value, docstring)`` of every ``EXIT_*`` constant of :mod:`necc_bayes.errors`."""
    tree = ast.parse(inspect.getsource(errors))
    out = []
    body = tree.body
    for node, nxt in zip(body, [*body[1:], None], strict=True):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Name) and target.id.startswith("EXIT_")):
            continue
        doc = ""
        if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
            doc = str(nxt.value.value)
        out.append((target.id, int(getattr(errors, target.id)), doc))
    return sorted(out, key=lambda item: item[1])


def _section(path: str, parser: argparse.ArgumentParser, summary: str, level: int) -> list[str]:
    anchor = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    lines = [f"{'#' * level} `necc-bayes {path}` {{#{anchor}}}", ""]
    if summary:
        lines += [_md(summary[0].upper() + summary[1:]) + ".", ""]
    if parser.description and parser.description != summary:
        lines += [_md(parser.description), ""]
    lines += ["```text", _usage(parser), "```", ""]
    table = argument_rows(parser)
    if table:
        lines += [*table, ""]
    helps = command_help(parser)
    for name, sub in subcommands(parser).items():
        lines += _section(f"{path} {name}", sub, helps.get(name, ""), level + 1)
    return lines


def render() -> str:
    """The whole reference page as Markdown."""
    parser = build_parser()
    helps = command_help(parser)
    lines = [
        "# Command-line reference",
        "",
        "<!-- generated by scripts/docs/cli_reference.py from necc_bayes/cli: do not edit -->",
        "",
        "Generated from the argument parser of `necc-bayes` (`necc_bayes.cli.main."
        "build_parser`) when the site is built. `necc-bayes COMMAND --help` prints the same.",
        "",
        "```text",
        _usage(parser),
        "```",
        "",
        _md(parser.description or ""),
        "",
        "| command | does |",
        "| --- | --- |",
    ]
    for name in subcommands(parser):
        anchor = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        lines.append(f"| [`{name}`](#{anchor}) | {_md(helps.get(name, ''))} |")
    lines += [
        "",
        "## Exit codes {#exit-codes}",
        "",
        "| code | name | meaning |",
        "| --- | --- | --- |",
    ]
    for name, value, doc in exit_codes():
        meaning = doc.removeprefix("Command-line exit code: ")
        lines.append(f"| {value} | `{name}` | {_md(meaning)} |")
    lines.append("")
    for name, sub in subcommands(parser).items():
        lines += _section(name, sub, helps.get(name, ""), 2)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
