"""mkdocs hooks: the generated pages of the documentation site.

``reference/spec.md`` (from the pydantic spec models), ``reference/cli.md`` (from the argparse
parser) and ``example/notebook.md`` (the executed walkthrough notebook, with the ``.ipynb``
beside it for download) are generated at every build, never written into ``docs/`` by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cli_reference
import notebook_page
import spec_reference

NOTEBOOK_URI = "example/necc_reanalysis_walkthrough.ipynb"
GENERATED_PAGES = ("reference/spec.md", "reference/cli.md", "example/notebook.md")
"""Pages generated at every build (never in ``docs/``); the nav test reads this."""


def on_files(files: Files, config) -> Files:
    """Add the generated pages (and the notebook file) to the site."""
    pages = {
        "reference/spec.md": spec_reference.render(),
        "reference/cli.md": cli_reference.render(),
        "example/notebook.md": notebook_page.render(
            download=Path(NOTEBOOK_URI).name
        ),
    }
    assert tuple(pages) == GENERATED_PAGES
    for uri, content in pages.items():
        files.append(File.generated(config, uri, content=content))
    files.append(
        File.generated(config, NOTEBOOK_URI, content=notebook_page.NOTEBOOK.read_bytes())
    )
    return files
