"""The generated references of the documentation site cover the code they are generated from.

The spec reference (scripts/docs/spec_reference.py) must list every key of every table a spec
can hold, every prior family and every key of each family, each with a meaning taken from the
docstrings; the CLI reference (scripts/docs/cli_reference.py) every subcommand (nested ones
included), every option and every exit code. The expected sets are collected here by walking
the pydantic models and the argparse parser independently of the generators.
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from necc_bayes import errors
from necc_bayes.cli.main import build_parser
from necc_bayes.spec.model import ModelSpec

DOCS_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "docs"
sys.path.insert(0, str(DOCS_SCRIPTS))

import cli_reference  # noqa: E402
import spec_reference  # noqa: E402


def _models(tp: object) -> list[type[BaseModel]]:
    """Every pydantic model an annotation can hold (unions, Annotated, lists, dicts)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in typing.get_args(tp) for m in _models(arg)]


def _reachable(root: type[BaseModel]) -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    todo = [root]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for info in model.model_fields.values():
            todo += _models(info.annotation)
    return seen


def _sections(page: str) -> dict[str, str]:
    """Markdown text of each section (``##`` to ``####`` heading) by heading."""
    parts = re.split(r"^#{2,4} (.+)$", page, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _keys(section: str) -> set[str]:
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))


SPEC_PAGE = spec_reference.render()


def test_every_spec_model_has_a_section_with_all_its_keys():
    sections = _sections(SPEC_PAGE)
    documented: dict[type[BaseModel], set[str]] = {}
    tables = spec_reference.spec_tables()
    tables += [t for ts in spec_reference.prior_families().values() for t in ts]
    for table in tables:
        heading = next(h for h in sections if h.startswith(
            f"`[{table.header}]`" if table.header and not table.header.startswith("dist")
            else (f"`{table.header}`" if table.header else "Top level")
        ))
        documented.setdefault(table.model, set()).update(_keys(sections[heading]))
    expected = _reachable(ModelSpec)
    assert set(documented) == expected, "spec models missing from the reference"
    for model in expected:
        assert set(model.model_fields) <= documented[model], model.__qualname__


def test_every_key_has_a_meaning_from_the_docstrings():
    missing = spec_reference.undocumented()
    assert not missing, (
        "spec keys without a meaning in the docs: document each in the 'Attributes' section "
        f"of its class docstring (numpy style: 'name : type' + description): {missing}"
    )


@pytest.mark.parametrize("alias", sorted(spec_reference.PRIOR_KINDS))
def test_every_prior_family_is_listed(alias):
    from necc_bayes.spec import baseline_priors, priors

    module = baseline_priors if alias == "BaselinePrior" else priors
    union = typing.get_args(getattr(module, alias))[0]
    for model in typing.get_args(union):
        dist = typing.get_args(model.model_fields["dist"].annotation)[0]
        assert f'#### `dist = "{dist}"`' in SPEC_PAGE


def test_defaults_are_the_models_defaults():
    # a default shown in the page is the field's default (e.g. the sampler seed, ESS threshold)
    sections = _sections(SPEC_PAGE)
    sampler = sections["`[sampler]` {#sampler}"]
    seed = ModelSpec.model_fields["sampler"].default_factory().seed
    assert f"| `seed` | int (>= 0, <= 4,294,967,295) | `{seed}` |" in sampler
    log_hr = '| `log_hr` | [log-HR prior](#log-hr-priors) | `{ dist = "normal", mu = 0, sigma = 1 }'
    assert log_hr in sections["`[priors]` {#priors}"]


def test_attribute_parser_reads_numpy_sections():
    class Example:
        """Summary.

        Attributes
        ----------
        a, b : int
            Both
            lines.
        c : str

        Notes
        -----
        d : not an attribute
        """

    assert spec_reference.attribute_docs(Example) == {"a": "Both lines.", "b": "Both lines.",
                                                      "c": ""}


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict:
    out = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out[prefix + name] = sub
                out.update(_commands(sub, prefix + name + " "))
    return out


CLI_PAGE = cli_reference.render()
COMMANDS = _commands(build_parser())


def test_cli_reference_lists_every_subcommand():
    assert {"reproduce", "fit", "orr", "validate-data", "cache"} <= set(COMMANDS)
    headings = set(re.findall(r"^#{2,6} `necc-bayes ([^`]+)`", CLI_PAGE, flags=re.MULTILINE))
    assert headings == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_reference_lists_every_option(command):
    section = _sections(CLI_PAGE)
    heading = next(h for h in section if h.startswith(f"`necc-bayes {command}`"))
    text = section[heading]
    for action in COMMANDS[command]._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        for flag in action.option_strings or [action.dest]:
            assert f"`{flag}`" in text, (command, flag)


def test_cli_reference_lists_every_exit_code():
    codes = {name: getattr(errors, name) for name in dir(errors) if name.startswith("EXIT_")}
    assert codes
    for name, value in codes.items():
        assert re.search(rf"^\| {value} \| `{name}` \| \S", CLI_PAGE, flags=re.MULTILINE), name


def test_generated_pages_are_not_checked_in():
    # the references exist only as generated pages: a hand-copied file would drift
    docs = Path(__file__).resolve().parents[2] / "docs"
    assert not (docs / "reference" / "spec.md").exists()
    assert not (docs / "reference" / "cli.md").exists()
