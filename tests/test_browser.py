"""kitgen serve in a real browser: Debian's Chromium driven by Playwright (pointed at the system's
executable: browser downloads are not reachable), and axe-core, injected, for accessibility."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml
from pypdf import PdfReader

from tests.filling import fill

sync_api = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = Path(__file__).parent / "engines" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("served")


@pytest.fixture(scope="module")
def address(served: Path) -> Iterator[str]:
    """``kitgen serve`` running, and the address it printed."""
    out = served
    server = subprocess.Popen([sys.executable, "-m", "kit", "serve", "--out", str(out)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        yield re.search(r"open (http://127\.0\.0\.1:\d+/\?token=\S+)", line).group(1)  # type: ignore[union-attr]
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, address: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(accept_downloads=True, bypass_csp=True)  # for axe, the test's own script;
    # the pages' policy itself is checked on its headers (tests/test_serve.py)
    opened = context.new_page()
    opened.goto(address)
    yield opened
    context.close()


def test_a_kit_made_through_the_form_opens_as_a_pdf(page) -> None:  # type: ignore[no-untyped-def]
    if os.environ.get("KITGEN_SCREENSHOTS"):  # the README's picture: KITGEN_SCREENSHOTS=1 pytest tests/test_browser.py
        page.set_viewport_size({"width": 1000, "height": 900})
        page.screenshot(path=str(Path(__file__).parent.parent / "docs" / "serve.png"))
    page.select_option("#role", "nlp-engineer")
    page.select_option("#level", "junior")
    page.fill("#candidate", "Ada Lovelace")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Made.", timeout=120_000)  # the page refreshes itself until the kit is made
    assert serious_violations(page) == []
    link = page.get_attribute("a[href$='/interviewer.pdf']", "href")
    packet = page.request.get(urljoin(page.url, link))  # with the browser's own cookie
    assert packet.ok and packet.headers["content-type"] == "application/pdf"
    assert "Ada Lovelace" in PdfReader(io.BytesIO(packet.body())).pages[0].extract_text()
    with page.expect_download() as download:
        page.click("text=The whole kit (.zip)")
    assert download.value.suggested_filename == "nlp-engineer-junior-ada-lovelace.zip"


def test_a_malformed_upload_shows_one_clear_message(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#role", "cv-engineer")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Made.", timeout=120_000)
    page.goto(page.url.split("/kits/")[0] + "/score")
    sheet = tmp_path / "grace.yaml"
    sheet.write_text("kit_id: [unclosed\n")
    page.set_input_files("#inputs", str(sheet))
    page.click("button[type=submit]")
    page.wait_for_selector("text=Nothing was scored", timeout=120_000)
    assert serious_violations(page) == []
    problems = page.locator(".problems li").all_inner_texts()
    assert len(problems) == 1 and problems[0].startswith("grace.yaml:2:1: not valid YAML")


def test_a_browser_without_the_token_is_refused(browser, address: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    response = context.new_page().goto(address.split("?")[0])
    assert response.status == 403
    context.close()


def serious_violations(page) -> list[list[object]]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical findings on the page shown; none when axe is not installed."""
    if not AXE.is_file():
        return []
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run()).violations.map(v => [v.id, v.impact, v.nodes.length])")
    return [v for v in found if v[1] in ("serious", "critical")]


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (npm ci --prefix tests/engines)")
@pytest.mark.parametrize("path", ["/", "/roster", "/score", "/library?role=cv-engineer", "/check"])
def test_no_page_has_a_serious_accessibility_violation(page, address: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(address.split("/?")[0] + path)
    assert serious_violations(page) == []


def test_a_roster_then_two_filled_packets_without_a_terminal(page, served: Path, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The issue's new user: a three-row roster made and printed, then two interviewers' filled packets
    scored, with the numbers kitgen score gives."""
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\nAda Byron,dl-engineer,mid\nAlan Turing,dl-engineer,mid\nKaren Jones,dl-engineer,mid\n")
    page.click("text=Roster")
    page.set_input_files("#roster", str(roster))
    page.click("button[type=submit]")
    page.click("text=Make the kits")
    page.wait_for_selector("text=3 kits made, 0 already complete, 0 failed", timeout=300_000)
    assert serious_violations(page) == []
    with page.expect_download() as printed:
        page.click("text=print.pdf")
    assert "Karen Jones" in "".join(p.extract_text() for p in PdfReader(printed.value.path()).pages)

    kit = served / "dl-engineer-mid-ada-byron"
    weights = yaml.safe_load((kit / "kit.yaml").read_text())["weights"]
    packets = []
    for name, rating, recommendation in (("Grace", 4, 4), ("Edsger", 2, 2)):
        packets.append(tmp_path / f"{name.lower()}.pdf")
        fill(kit / "interviewer.pdf", packets[-1], {**{f"c:{c}": rating for c in weights}, "recommendation": recommendation},
             {"interviewer": name})
    page.click("text=Score")
    page.select_option("#kit", yaml.safe_load((kit / "kit.yaml").read_text())["kit_id"])
    page.set_input_files("#inputs", [str(p) for p in packets])
    page.click("button[type=submit]")
    page.wait_for_selector("text=Recommendation by the rubric", timeout=120_000)
    assert serious_violations(page) == []
    assert run("score", "--kit", kit, *packets, "--out", tmp_path / "cli").exit_code == 0
    expected = json.loads((tmp_path / "cli" / "scores.json").read_text())
    verdict = page.inner_text(".verdict")
    assert f"Recommendation by the rubric: {expected['recommendation']}" in verdict
    assert f"weighted total {expected['weighted_total']:.2f}" in verdict
    assert page.locator("table.debrief thead th").all_inner_texts()[2:4] == ["Grace", "Edsger"]
