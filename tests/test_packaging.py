"""A wheel built from the repo carries the banks, rubrics and templates and works outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def test_wheel_makes_a_kit_outside_the_checkout(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("kitgen-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import kit.assets as a; print(a.asset_dir('questions'))"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()) == site / "kit" / "questions"
    done = subprocess.run([sys.executable, "-m", "kit", "--role", "nlp-engineer", "--level", "junior", "--out", "kits"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    packet = tmp_path / "kits" / "nlp-engineer-junior" / "interviewer.pdf"
    assert "NLP engineer" in PdfReader(packet).pages[0].extract_text()
