"""The encoder is loaded once per test session (about 2 s); headless Chromium opens the pages.

Chromium comes from Debian's ``chromium`` package (``make test`` installs it when missing,
target ``chromium``). Without it the page tests are skipped on a developer's machine and fail
under CI, like the PostgreSQL ones.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cogs.digest import clustering, model


@pytest.fixture(scope="session")
def encoder() -> model.Encoder:
    """The bundled multilingual encoder."""
    return clustering.default_encoder()


#: Runs in the test's wrapper page, never in the page under test (whose policy forbids
#: scripts): it reads the framed page once everything loaded and writes what it saw.
MEASURE = """
const frame = document.getElementById("page");
frame.addEventListener("load", () => {
  const win = frame.contentWindow, doc = win.document;
  const style = win.getComputedStyle(doc.body);
  const seen = {
    innerWidth: win.innerWidth,
    scrollWidth: doc.documentElement.scrollWidth,
    widest: Math.max(0, ...[...doc.body.querySelectorAll("*")]
      .map(e => e.getBoundingClientRect().right)),
    text: doc.body.innerText.length,
    headings: [...doc.querySelectorAll("h1, h2")].map(h => h.textContent),
    images: [...doc.images].map(i => ({complete: i.complete, naturalWidth: i.naturalWidth,
                                      width: i.getBoundingClientRect().width})),
    scripts: doc.querySelectorAll("script").length,
    links: [...doc.querySelectorAll("a")].map(a => a.getAttribute("href")),
    dark: win.matchMedia("(prefers-color-scheme: dark)").matches,
    background: style.backgroundColor,
    color: style.color,
    lang: doc.documentElement.lang,
  };
  const out = document.createElement("pre");
  out.id = "measure";
  out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
});
"""


@dataclass
class Browser:
    """Headless Chromium, opening a page in a frame of a given width."""

    binary: str
    workdir: Path

    def _wrap(self, page: str, width: int, height: int, *, measure: bool) -> Path:
        script = f"<script>{MEASURE}</script>" if measure else ""
        wrapper = (
            '<!DOCTYPE html><html><body style="margin:0">'
            f'<iframe id="page" width="{width}" height="{height}" style="border:0;display:block" '
            f'srcdoc="{html.escape(page, quote=True)}"></iframe>{script}</body></html>'
        )
        path = self.workdir / f"wrapper-{width}-{measure}.html"
        path.write_text(wrapper, encoding="utf-8")
        return path

    def _run(self, *args: str, dark: bool) -> str:
        command = [
            self.binary,
            "--headless",
            "--no-sandbox",  # the tests run as root in CI
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--mute-audio",
            f"--user-data-dir={self.workdir / 'profile'}",
            # Waits for every load (the data: image included) before dumping or shooting.
            "--virtual-time-budget=5000",
            *(("--force-dark-mode",) if dark else ()),
            *args,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def measure(self, page: str, *, width: int = 360, dark: bool = False) -> dict[str, Any]:
        """What the page shows in a frame ``width`` CSS pixels wide, once loaded."""
        wrapper = self._wrap(page, width, 2400, measure=True)
        dom = self._run("--window-size=800,2400", "--dump-dom", wrapper.as_uri(), dark=dark)
        found = re.search(r'<pre id="measure">(.*?)</pre>', dom, re.S)
        assert found is not None, "the page never finished loading"
        seen: dict[str, Any] = json.loads(html.unescape(found.group(1)))
        return seen

    def screenshot(self, page: str, *, width: int = 360, dark: bool = False) -> Path:
        """A PNG of the page in a frame ``width`` CSS pixels wide (the window is wider)."""
        wrapper = self._wrap(page, width, 1400, measure=False)
        shot = self.workdir / f"shot-{width}-{'dark' if dark else 'light'}.png"
        self._run("--window-size=500,1400", f"--screenshot={shot}", wrapper.as_uri(), dark=dark)
        assert shot.exists(), "Chromium wrote no screenshot"
        return shot


def chromium_binary() -> str | None:
    """Debian's Chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's package), in a throwaway profile."""
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: `make test` installs it (apt chromium)")
        pytest.skip("Chromium not found: apt-get install chromium (or run `make test`)")
    with tempfile.TemporaryDirectory(prefix="cercle-chromium-") as workdir:
        yield Browser(binary, Path(workdir))
