"""Generate the specification reference (every key, type, default, meaning) from the spec models.

The pages are built from the pydantic models of :mod:`necc_bayes.spec` themselves: the keys
and their types, constraints and defaults from the field definitions, the meaning of each key
from the numpy-style ``Attributes`` section of its class docstring (or a field
``description``), so the reference cannot drift from the code. ``make docs`` renders it
through the mkdocs hook (``scripts/docs/mkdocs_hooks.py``); ``python
scripts/docs/spec_reference.py`` prints it; :func:`undocumented` lists keys without a meaning
(the fast test ``tests/docs/test_reference_pages.py`` requires it to be empty).
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from necc_bayes.spec import baseline_priors, priors
from necc_bayes.spec.model import ModelSpec

PRIOR_KINDS = {
    "CoefficientPrior": "log-HR prior",
    "GroupPrior": "group prior",
    "BaselinePrior": "baseline prior",
    "SDPrior": "SD prior",
}
PRIOR_UNIONS = {
    "CoefficientPrior": priors.CoefficientPrior,
    "GroupPrior": priors.GroupPrior,
    "BaselinePrior": baseline_priors.BaselinePrior,
    "SDPrior": priors.SDPrior,
}
"""Discriminated unions of prior families, by the name of their ``Annotated`` alias."""


@dataclass
class Key:
    """One key of a table: its name, type, default and meaning."""

    name: str
    type: str
    default: str
    meaning: str


@dataclass
class Table:
    """One TOML table (section) of the specification, or one prior family."""

    header: str
    model: type[BaseModel]
    keys: list[Key] = field(default_factory=list)
    intro: str = ""


# ---------------------------------------------------------------------------------------------
# docstrings


def attribute_docs(model: type) -> dict[str, str]:
    """Meaning of each attribute from the numpy ``Attributes`` sections of ``model`` and its bases.

    ``a, b : type`` documents both ``a`` and ``b``; the nearest class in the MRO wins.
    """
    out: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        doc = cls.__dict__.get("__doc__")
        if doc:
            out.update(_parse_attributes(inspect.cleandoc(doc)))
    return out


_HEADER = re.compile(r"^(\w[\w ]*)\n-{3,}$", re.MULTILINE)


def _parse_attributes(doc: str) -> dict[str, str]:
    lines = doc.splitlines()
    out: dict[str, str] = {}
    try:
        start = next(
            i for i, line in enumerate(lines[:-1])
            if line.strip() == "Attributes" and set(lines[i + 1].strip()) == {"-"}
        )
    except StopIteration:
        return out
    names: list[str] = []
    text: list[str] = []

    def flush() -> None:
        for name in names:
            out[name] = " ".join(text).strip()

    i = start + 2
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line and not line.startswith(" ") and nxt.strip() and set(nxt.strip()) == {"-"}:
            break  # the next section
        if line and not line.startswith(" "):
            flush()
            names = [n.strip() for n in line.split(":", 1)[0].split(",")]
            text = []
        elif line.strip():
            text.append(line.strip())
        i += 1
    flush()
    return out


def class_intro(model: type) -> str:
    """The class docstring up to its first numpy section (``Attributes``, ``Parameters``...)."""
    doc = inspect.cleandoc(model.__dict__.get("__doc__") or "")
    match = _HEADER.search(doc)
    body = doc[: match.start()] if match else doc
    paragraphs = [p for p in body.strip().split("\n\n") if not p.startswith("PyMC:")]
    return "\n\n".join(paragraphs).strip()


def rst_to_md(text: str) -> str:
    """Docstring markup to Markdown: ``x`` -> `x`, :func:`a.b` -> `a.b`."""
    text = re.sub(r":(?:func|class|mod|meth|data|attr):`~?([^`]+)`", r"`\1`", text)
    return re.sub(r"``([^`]+)``", r"`\1`", text)


# ---------------------------------------------------------------------------------------------
# types and defaults


def _constraints(metadata: list[Any]) -> list[str]:
    out = []
    for m in metadata:
        for attr, op in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            value = getattr(m, attr, None)
            if value is not None:
                out.append(f"{op} {value:,}" if isinstance(value, int) else f"{op} {value}")
        if isinstance(m, annotated_types.MinLen) and m.min_length:
            out.append(f"at least {m.min_length}")
    return out


def _alias_name(tp: Any) -> str | None:
    """The kind of prior a prior union stands for (with or without its ``Annotated`` wrapper)."""
    for name, kind in PRIOR_KINDS.items():
        alias = PRIOR_UNIONS[name]
        if tp is alias or tp == get_args(alias)[0]:
            return kind
    return None


def type_name(tp: Any, metadata: list[Any] | None = None) -> str:
    """A readable type for an annotation: ``float > 0``, ``"error" | "drop"``, ``list of str``."""
    kind = _alias_name(tp)
    if kind is not None:
        return f"[{kind}](#{_anchor(kind + 's')})"
    constraints = _constraints(metadata or [])
    origin = get_origin(tp)
    if origin is Annotated:
        base, *meta = get_args(tp)
        extra = [m for m in meta if not isinstance(m, FieldInfo)]
        extra += [m for fi in meta if isinstance(fi, FieldInfo) for m in fi.metadata]
        name = type_name(base, extra)
    elif origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        name = " or ".join(type_name(a) for a in args)
    elif origin is Literal:
        name = " | ".join(f'"{a}"' if isinstance(a, str) else str(a) for a in get_args(tp))
    elif origin is list:
        (item,) = get_args(tp)
        name = f"list of {type_name(item)}"
    elif origin is dict:
        k, v = get_args(tp)
        name = f"table of {type_name(k)} to {type_name(v)}"
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        name = "table"
    elif tp is typing.Any:
        name = "any"
    else:
        name = getattr(tp, "__name__", str(tp))
    return f"{name} ({', '.join(constraints)})" if constraints else name


def toml_value(value: Any) -> str:
    """A default written the way it is written in TOML."""
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return str(value)


def default_of(info: FieldInfo) -> str:
    """``required``, or the default value (calling a default factory)."""
    if info.is_required():
        return "required"
    return toml_value(info.get_default(call_default_factory=True))


# ---------------------------------------------------------------------------------------------
# walking the models


def _models_in(tp: Any) -> list[tuple[str, type[BaseModel]]]:
    """Sub-tables of a field: ``("", Model)``, ``(".NAME", Model)`` (dict) or ``("[]", Model)``."""
    origin = get_origin(tp)
    if _alias_name(tp) is not None:
        return []
    if origin in (Union, types.UnionType):
        return [m for a in get_args(tp) for m in _models_in(a)]
    if origin is dict:
        return [(".NAME" + s, m) for s, m in _models_in(get_args(tp)[1])]
    if origin is list:
        return [("[]" + s, m) for s, m in _models_in(get_args(tp)[0])]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [("", tp)]
    return []


def _placeholder(key: str) -> str:
    """The word standing for a dict key in a header: COLUMN, TERM or NAME."""
    return {"categorical": "COLUMN", "ordinal": "COLUMN"}.get(key, "NAME")


def sub_header(header: str, name: str, suffix: str) -> str:
    """Header of the sub-table of key ``name`` of table ``header`` (see :func:`_models_in`)."""
    out = f"{header}.{name}" if header else name
    if suffix.startswith(".NAME"):
        out += "." + _placeholder(name)
    return f"[{out}]" if suffix.endswith("[]") else out


def keys_of(model: type[BaseModel], header: str | None = None) -> list[Key]:
    """The keys of one table, in declaration order (sub-tables linked when ``header`` is given)."""
    docs = attribute_docs(model)
    out = []
    for name, info in model.model_fields.items():
        if name == "dist" and _is_family(model):
            meaning = "Selects the family."
        else:
            meaning = info.description or docs.get(name, "")
        kind = type_name(info.annotation, info.metadata)
        default = default_of(info)
        subs = _models_in(info.annotation) if header is not None else []
        if subs:
            target = sub_header(header or "", name, subs[0][0])
            kind = f"{kind}: [`[{target}]`](#{_anchor(target)})"
            if isinstance(info.get_default(call_default_factory=True), BaseModel):
                default = "see the table"
        out.append(Key(name, kind, default, meaning))
    return out


def _is_family(model: type[BaseModel]) -> bool:
    return issubclass(model, priors._Prior)


def spec_tables() -> list[Table]:
    """Every table of a specification, the top level first, in declaration order."""
    out: list[Table] = []

    def visit(header: str, model: type[BaseModel]) -> None:
        out.append(Table(header, model, keys_of(model, header), class_intro(model)))
        for name, info in model.model_fields.items():
            for suffix, sub in _models_in(info.annotation):
                visit(sub_header(header, name, suffix), sub)

    visit("", ModelSpec)
    return out


def prior_families() -> dict[str, list[Table]]:
    """Every prior family by kind (log-HR, group, baseline, SD), keyed by its ``dist``."""
    out: dict[str, list[Table]] = {}
    for alias, kind in PRIOR_KINDS.items():
        union = PRIOR_UNIONS[alias]
        members = get_args(get_args(union)[0])
        tables = []
        for model in members:
            dist = get_args(model.model_fields["dist"].annotation)[0]
            tables.append(Table(f'dist = "{dist}"', model, keys_of(model), class_intro(model)))
        out[kind] = tables
    return out


def undocumented() -> list[str]:
    """Keys (``table.key``) whose meaning is missing from the docstrings."""
    out = []
    tables = spec_tables() + [t for ts in prior_families().values() for t in ts]
    for table in tables:
        for key in table.keys:
            if not key.meaning:
                out.append(f"{table.model.__module__}.{table.model.__qualname__}.{key.name}")
    return out


# ---------------------------------------------------------------------------------------------
# rendering


def _cell(text: str) -> str:
    return rst_to_md(text).replace("|", "\\|").replace("\n", " ")


def _key_table(keys: list[Key]) -> list[str]:
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    shown = {"required": "**required**", "see the table": "see the table"}
    for k in keys:
        default = shown.get(k.default, f"`{k.default}`")
        lines.append(f"| `{k.name}` | {_cell(k.type)} | {default} | {_cell(k.meaning)} |")
    return lines


def _anchor(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", header.lower()).strip("-") or "top-level"


def render() -> str:
    """The whole reference page as Markdown."""
    lines = [
        "# Specification reference",
        "",
        "<!-- generated by scripts/docs/spec_reference.py from necc_bayes/spec: do not edit -->",
        "",
        "Every key a model specification (TOML) accepts, with its type, default and meaning, "
        "generated from the pydantic models in `necc_bayes/spec` when the site is built. "
        "Unknown keys are refused (with a *did you mean* hint), and every problem in a file is "
        "reported at once. The resolved `spec.toml` written next to every result has every "
        "default filled in, including the numbers that `\"auto\"` stands for.",
        "",
        "Tables: " + ", ".join(
            f"[`[{t.header}]`](#{_anchor(t.header)})" if t.header else "[top level](#top-level)"
            for t in spec_tables()
        ) + ". Priors: [prior families](#prior-families).",
        "",
    ]
    for table in spec_tables():
        title = f"`[{table.header}]`" if table.header else "Top level"
        anchor = _anchor(table.header)
        lines += [f"## {title} {{#{anchor}}}", ""]
        if table.intro:
            lines += [rst_to_md(table.intro), ""]
        lines += [*_key_table(table.keys), ""]
    lines += [
        "## Prior families {#prior-families}",
        "",
        "A prior is a table whose `dist` key selects the family; the other keys are the "
        "family's parameters. `\"auto\"` parameters are computed from the data and written as "
        "numbers into the resolved `spec.toml`.",
        "",
    ]
    for kind, tables in prior_families().items():
        lines += [f"### {kind[0].upper()}{kind[1:]}s {{#{_anchor(kind + 's')}}}", ""]
        for table in tables:
            lines += [f"#### `{table.header}`", ""]
            if table.intro:
                lines += [rst_to_md(table.intro), ""]
            lines += [*_key_table(table.keys), ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
