"""The hand-written pages of the documentation site cannot drift from the site or the CLI.

* every Markdown page in ``docs/`` and every generated page is in the ``mkdocs.yml`` nav, and
  every nav entry is a page that exists (so no page is orphaned and no link in the nav dangles);
* every ```` ```bash ```` block of the pages holds only ``necc-bayes`` command lines (and
  comments), and each line parses with the real parser (:func:`necc_bayes.cli.main.build_parser`):
  the subcommand exists and every option and argument it shows is accepted;
* every guide page shows at least one runnable example (a ``bash`` or ``python`` block);
* every ``toml`` block that is a whole specification (it has ``name``) validates as one.
"""

from __future__ import annotations

import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from necc_bayes.cli.main import build_parser
from necc_bayes.spec.io import parse_spec

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "scripts" / "docs"))

import mkdocs_hooks  # noqa: E402

PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _nav_pages(entries: object) -> list[str]:
    if isinstance(entries, str):
        return [entries]
    if isinstance(entries, list):
        return [p for e in entries for p in _nav_pages(e)]
    if isinstance(entries, dict):
        return [p for v in entries.values() for p in _nav_pages(v)]
    raise TypeError(entries)


def _blocks(page: str, lang: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [body for kind, body in FENCE.findall(text) if kind == lang]


def _commands() -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        for block in _blocks(page, "bash"):
            for line in block.splitlines():
                line = line.split(" #", 1)[0].strip()
                if line and not line.startswith("#"):
                    out.append((page, line))
    return out


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = _nav_pages(config["nav"])
    assert len(nav) == len(set(nav)), "a page is in the nav twice"
    generated = set(mkdocs_hooks.GENERATED_PAGES)
    assert not generated & set(PAGES), "a generated page is also written by hand in docs/"
    assert set(nav) == set(PAGES) | generated


COMMANDS = _commands()


def test_the_pages_show_commands():
    pages = {page for page, _ in COMMANDS}
    assert len(COMMANDS) >= 15 and {"quickstart.md", "guide/orr.md"} <= pages


@pytest.mark.parametrize(("page", "line"), COMMANDS, ids=[f"{p}:{c[:40]}" for p, c in COMMANDS])
def test_every_shown_command_parses(page, line):
    argv = shlex.split(line)
    assert argv[0] == "necc-bayes", f"{page}: bash blocks hold necc-bayes commands only: {line}"
    try:
        build_parser().parse_args(argv[1:])
    except SystemExit as exc:  # argparse: unknown subcommand or option, missing argument
        pytest.fail(f"{page}: `{line}` does not parse (exit {exc.code})")


@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith("guide/")])
def test_every_guide_page_has_a_runnable_example(page):
    assert _blocks(page, "bash") or _blocks(page, "python"), page


def _full_specs() -> list[tuple[str, str]]:
    return [
        (page, block)
        for page in PAGES
        for block in _blocks(page, "toml")
        if re.search(r"^name = ", block, flags=re.MULTILINE)
    ]


SPECS = _full_specs()


def test_the_pages_show_specs():
    assert len(SPECS) >= 5


@pytest.mark.parametrize(("page", "block"), SPECS, ids=[p for p, _ in SPECS])
def test_every_complete_spec_shown_is_valid(page, block):
    """A ``toml`` block with a ``name`` is a whole specification: it must validate as one."""
    parse_spec(tomllib.loads(block), source=page)
