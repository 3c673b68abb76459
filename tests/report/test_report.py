"""The HTML report: content on a hand-made fit, and rendering in headless Chromium.

The Chromium test installs Debian's ``chromium`` when it is missing and we are root, and
skips (saying why) only when it cannot be installed. The page sets
``data-figures-loaded`` / ``data-figures-total`` on ``<body>`` once every figure decoded;
the test reads them from ``--dump-dom``. The screenshot is kept in ``tests/artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from necc_bayes.survival.page import render_fit_report
from tests.fake_fit import fake_result

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
N_FIGURES = 6  # forest, survival, trace/rank, PPC, PPC by group (trt), prior predictive


@pytest.fixture(scope="module")
def good_html(tmp_path_factory) -> str:
    return render_fit_report(fake_result(tmp_path_factory.mktemp("good")))


def test_report_has_every_section_and_figure(good_html):
    for anchor in [
        "warnings",
        "hazard-ratios",
        "survival",
        "diagnostics",
        "ppc",
        "ppc-groups",
        "ph-check",
        "prior-predictive",
        "loo",
        "data",
        "spec",
    ]:
        assert f'id="{anchor}"' in good_html, anchor
    assert len(re.findall(r'<img src="data:image/(?:svg\+xml|png);base64,', good_html)) == N_FIGURES
    assert "PASSED" in good_html
    assert "Normal(mu=0, sigma=1)" in good_html  # priors printed as data
    assert "[intervals]" in good_html  # the resolved spec as TOML


def test_report_is_self_contained(good_html):
    assert not re.search(r'(src|href)="(https?:)?//', good_html)
    assert "<link" not in good_html


def test_same_fit_gives_the_same_report_bytes_and_svg_text_is_text(tmp_path, good_html):
    # reference: the rendered page itself; SVG element ids come from a fixed salt (without it,
    # matplotlib salts them with a fresh uuid per figure and no two reports are equal)
    import base64

    result = fake_result(tmp_path)
    assert render_fit_report(result) == render_fit_report(result)
    uris = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', good_html)
    forest = base64.b64decode(uris[0]).decode("utf-8")
    assert ">Posterior hazard ratios</text>" in forest  # text, not glyph outlines
    assert "sans-serif" in forest  # the font-family list ends in a generic family


def test_bad_fit_report_names_the_parameter(tmp_path):
    html = render_fit_report(fake_result(tmp_path, stuck_chain=True))
    assert "FAILED" in html
    warnings = html.split('id="warnings"')[1].split("</section>")[0]
    assert "R-hat" in warnings and "[trt]" in warnings
    assert 'class="fail"' in html


def _can_install() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


@pytest.fixture(scope="session")
def chromium() -> str:
    exe = shutil.which("chromium")
    if exe is None and _can_install():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
            if done.returncode != 0:
                pytest.skip(
                    f"cannot install chromium: {' '.join(cmd)} failed: {done.stderr[-300:]}"
                )
        exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium is not installed and cannot be installed (not root or no apt-get)")
    return exe


def _chromium(exe: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_report_renders_in_chromium(chromium, good_html, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(good_html, encoding="utf-8")
    dom = _chromium(chromium, tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout)
    assert body, dom.stdout[:500]
    assert f'data-figures-total="{N_FIGURES}"' in body.group(0)
    assert f'data-figures-loaded="{N_FIGURES}"' in body.group(0), body.group(0)
    assert "Uncaught" not in dom.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    res = _chromium(
        chromium, tmp_path, f"--screenshot={shot}", "--window-size=1280,6000", page.as_uri()
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a blank page is a few kB


def test_data_label_reaches_title_captions_and_every_figure_file(tmp_path):
    # reference: the label string itself; figure titles read back from the embedded files'
    # metadata (PNG tEXt Title / SVG dc:title), which save the figure's own suptitle
    from tests.e2e.html_outline import parse_page

    label = "SYNTHETIC cohort (not study data)"
    page = parse_page(render_fit_report(fake_result(tmp_path), data_label=label))
    assert label in page.title and label in page.header
    assert len(page.figures) == N_FIGURES
    for fig in page.figures:
        assert label in fig.caption, fig.alt
        assert label in fig.title(), fig.alt


def test_unlabelled_report_has_no_data_label(good_html):
    assert "SYNTHETIC" not in good_html


def test_label_figure_appends_to_an_existing_title_and_is_saved_as_metadata(tmp_path):
    from matplotlib.figure import Figure

    from necc_bayes.report.figures import label_figure, save_figure
    from tests.e2e.html_outline import image_title

    fig = Figure()
    fig.subplots().plot([0, 1], [0, 1])
    fig.suptitle("Power")
    assert label_figure(fig, None).get_suptitle() == "Power"
    label_figure(fig, "SYNTHETIC cohort")
    assert fig.get_suptitle() == "Power — SYNTHETIC cohort"
    for suffix in ("png", "svg"):
        path = save_figure(fig, tmp_path / f"f.{suffix}")
        assert image_title(path.read_bytes()) == "Power — SYNTHETIC cohort", suffix
