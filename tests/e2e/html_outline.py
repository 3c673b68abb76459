"""Read a written report page back: page title, sections, their tables and figures (stdlib only)."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Figure:
    """One ``<figure>``: the embedded image's data URI, its alt text and caption."""

    src: str = ""
    alt: str = ""
    caption: str = ""

    def title(self) -> str:
        """The title the figure's file records (PNG tEXt / SVG dc:title metadata)."""
        return image_title(data_uri_bytes(self.src))


@dataclass
class Section:
    """One ``<section>``: its ``<h2>`` title, text, tables (rows of cell texts) and figures."""

    anchor: str
    title: str = ""
    text: str = ""
    tables: list[list[list[str]]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Page:
    title: str = ""
    header: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, anchor: str) -> Section:
        hits = [s for s in self.sections if s.anchor == anchor]
        assert len(hits) == 1, f"expected one section #{anchor}, found {len(hits)}"
        return hits[0]

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[str] = []
        self.section: Section | None = None
        self.figure: Figure | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.stack.append(tag)
        if tag == "section":
            self.section = Section(anchor=a.get("id", ""))
            self.page.sections.append(self.section)
        elif tag == "table" and self.section is not None:
            self.section.tables.append([])
        elif tag == "tr" and self.section is not None and self.section.tables:
            self.row = []
            self.section.tables[-1].append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "figure" and self.section is not None:
            self.figure = Figure()
            self.section.figures.append(self.figure)
        elif tag == "img" and self.figure is not None:
            self.figure.src, self.figure.alt = a.get("src", ""), a.get("alt", "")

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr":
            self.row = None
        elif tag == "figure":
            self.figure = None
        elif tag == "section":
            self.section = None

    def handle_data(self, data: str) -> None:
        where = self.stack[-1] if self.stack else ""
        if self.cell is not None:
            self.cell.append(data)
        if where == "title":
            self.page.title += data
        elif where == "figcaption" and self.figure is not None:
            self.figure.caption += data
        elif where == "h2" and self.section is not None:
            self.section.title += data
        if "header" in self.stack:
            self.page.header += data
        if self.section is not None and where not in ("style", "script"):
            self.section.text += data


def parse_page(html: str) -> Page:
    """Parse one report page."""
    parser = _Parser()
    parser.feed(html)
    return parser.page


def data_uri_bytes(uri: str) -> bytes:
    m = re.fullmatch(r"data:image/[a-z+]+;base64,(.*)", uri, flags=re.S)
    assert m is not None, f"not a base64 image data URI: {uri[:40]!r}"
    return base64.b64decode(m.group(1))


def image_title(data: bytes) -> str:
    """Title metadata of a PNG (tEXt ``Title``) or SVG (``<dc:title>``) file; '' if absent."""
    if data.startswith(b"\x89PNG"):
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return str(getattr(im, "text", {}).get("Title", ""))
    m = re.search(rb"<dc:title>(.*?)</dc:title>", data, flags=re.S)
    return m.group(1).decode("utf-8") if m else ""
