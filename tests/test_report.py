"""report.html: written into every version, built from the manifest and samples, and rendered
in a real headless Chromium (Debian's, driven by Playwright): charts drawn, no console errors,
no network requests, nothing opted out or redacted on the page."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from tests.conftest import FIXTURES, ROOT, run_curate

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def main_job(tmp_path_factory) -> Path:
    """The README's main job over the fixtures; its version folder."""
    folder = tmp_path_factory.mktemp("main")
    (folder / "pipeline.yaml").write_text((ROOT / "pipeline.yaml").read_text())
    (folder / "fixtures").symlink_to(FIXTURES)
    done = run_curate("run", "pipeline.yaml", "-q", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "out" / "tiny-corpus" / "2026.11.0"


def test_every_run_writes_a_report_that_verify_accepts(main_job):
    html = (main_job / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    manifest = orjson.loads((main_job / "manifest.json").read_bytes())
    for stage in manifest["stages"]:
        assert f". {stage['stage']}<" in html  # a funnel row per stage
    for section in (
        "Composition",
        "Text length",
        "Near-duplicate clusters",
        "Redactions",
        "Opt-out removals",
        "Time",
    ):
        assert f"<h2>{section}" in html
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert run_curate("verify", str(main_job)).returncode == 0  # not listed, not extra


def test_the_report_never_shows_opted_out_content_or_redacted_values(main_job):
    html = (main_job / "report.html").read_text()
    log = [orjson.loads(line) for line in (main_job / "optout-log.jsonl").read_bytes().splitlines()]
    assert len(log) == 2  # two records were opted out...
    for row in log:
        assert row["id"] not in html  # ...and neither their ids nor their paths appear
    registry = [orjson.loads(line) for line in (FIXTURES / "registry" / "optout.jsonl").open("rb")]
    assert all(entry["value"] not in html for entry in registry)
    # only the count per request
    assert (
        '<tr><td class="">DEMO-1</td><td class="">path_glob</td><td class="n">2</td></tr>' in html
    )
    assert "@" not in html.replace("<EMAIL>", "")  # redacted addresses show as placeholders


def test_report_against_an_older_version_shows_what_changed(main_job, tmp_path):
    out = tmp_path / "r.html"
    done = run_curate("report", str(main_job), "--against", str(main_job), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode() == f"{out}\n"
    assert "<h2>Against tiny-corpus 2026.11.0</h2>" in out.read_text()
    assert "Same pipeline configuration and rules." in out.read_text()


def test_report_of_a_folder_that_is_no_dataset_is_a_one_line_error(tmp_path):
    done = run_curate("report", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.decode() == (
        f"curate: error: {tmp_path}: no manifest.json (not a curate dataset folder)\n"
    )


def test_the_report_renders_in_headless_chromium(main_job, tmp_path):
    from playwright.sync_api import sync_playwright

    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((main_job / "report.html").as_uri())
        charts = page.locator("svg.chart")
        assert charts.count() >= 5
        bars = page.locator("svg.chart rect.bar")
        assert bars.count() > 20
        box = bars.first.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0  # drawn, not empty
        assert page.title() == "tiny-corpus 2026.11.0 — curate report"
        shot = tmp_path / "report.png"  # docs/report.png is this, for the main job
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
    assert errors == []
    assert requests == [(main_job / "report.html").as_uri()]  # the page itself, nothing else
