"""A non-editable install serves every page: the wheel carries the templates and static
files (docs/architecture.md), so a server started from it, far from this checkout, renders
the candidate page and the committee login."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests_support import free_port

from exam_server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    # Build from a copy: an in-tree build leaves build/ and *.egg-info behind.
    shutil.copytree(
        REPO,
        build / "src",
        ignore=shutil.ignore_patterns(
            ".venv", ".tkd", ".git", "build", "*.egg-info", "__pycache__"
        ),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."],
        cwd=build / "src",
        check=True,
    )
    (found,) = out.glob("tkd_cbt-*.whl")
    return found


def test_the_wheel_carries_templates_static_files_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "exam_server/templates/candidate/app.html",
        "exam_server/templates/staff/login.html",
        "exam_server/templates/results/verify.html",
        "exam_server/static/exam.js",
        "exam_server/static/i18n/id.json",
        "exam_server/db/migrations/script.py.mako",
        "question_bank/templates/template-soal.xlsx",
    ):
        assert name in names, name
    templates = REPO / "exam_server" / "templates"
    for path in templates.rglob("*.html"):
        assert f"exam_server/templates/{path.relative_to(templates)}" in names


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            str(REPO / "requirements.lock"),
            str(wheel),
        ],
        check=True,
    )
    return venv


@contextlib.contextmanager
def served_from(venv: Path, settings: Settings, workdir: Path) -> Iterator[str]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": str(settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "TKD_DATA_DIR": str(workdir / "data"),
        "TKD_SECRET_KEY": settings.secret_key_value,
    }
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(venv / "bin" / "tkd"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def test_an_installed_wheel_serves_the_candidate_page_and_the_committee_login(
    installed: Path, settings: Settings, tmp_path: Path
) -> None:
    # The installed package, not this checkout, is what the server imports.
    where = subprocess.run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "import exam_server; print(exam_server.__file__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(installed) in where and str(REPO) not in where
    with served_from(installed, settings, tmp_path) as url:
        page = httpx.get(url + "/", timeout=10)
        assert page.status_code == 200
        assert "/static/exam.js" in page.text
        assert httpx.get(url + "/static/exam.js", timeout=10).status_code == 200
        login = httpx.get(url + "/panitia/masuk", timeout=10)
        assert login.status_code == 200
        assert 'name="password"' in login.text
