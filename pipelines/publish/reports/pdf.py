"""PDFs of the HTML pages sdz writes, printed on A4 by a headless Chromium when one is installed.

`print_pdfs(pages)` writes `<page>.pdf` beside each page, all pages in one browser process (started once,
about a second; each page then takes a fraction of that), driven over the DevTools protocol on a pipe:
no port is opened. The page's own print CSS (`templates/print.css.j2`: `@page` A4 and margins) sets the
paper. Without a browser nothing is printed and the caller says so in one line; the HTML pages and
workbooks never depend on it. A PDF holds its creation time, so unlike the pages it is not byte-reproducible.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

# Names of a Chromium-based browser on PATH, in the order tried.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
# Page.printToPDF: the page's @page rule decides paper and margins; backgrounds (table header fills) print.
PRINT_OPTIONS = {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False}
LOG = logging.getLogger(__name__)
NO_BROWSER = "PDF 未生成 PDFs not written: no headless Chromium found (install chromium to have them)"


def find_browser() -> str | None:
    """The path of a Chromium-based browser on PATH, or None."""
    return next((found for name in BROWSER_NAMES if (found := shutil.which(name))), None)


def missing_pdfs_notice(folder: Path) -> str | None:
    """The one line telling why the report pages under `folder` (`<round>/*.html`, what `sdz run` prints) have
    no PDF beside them, or None when they all have one. The zone cards (`<round>/zones/`) are printed on
    request (`sdz cards --pdf`), so they do not count."""
    if all(page.with_suffix(".pdf").is_file() for page in folder.glob("*/*.html")):
        return None
    return NO_BROWSER if find_browser() is None else f"PDF 未生成 PDFs not written for some pages under {folder}"


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fd 3 to the browser, fd 4 back)."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def as_fd_3_and_4() -> None:
            read, write = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [binary, *BROWSER_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            preexec_fn=as_fd_3_and_4, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer, self._id, self.events = b"", 0, []

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if not select.select([self._from_browser], [], [], max(deadline - time.monotonic(), 0))[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        """Call a DevTools method and return its result; events received meanwhile are kept in `events`."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def wait_for(self, method: str, session: str, timeout: float = 30) -> None:
        """Wait until the event `method` has arrived for `session`."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method and e.get("sessionId") == session for e in self.events):
            self.events.append(self._message(deadline))

    def evaluate(self, expression: str, session: str) -> object:
        """The value of a JavaScript expression in the page of `session`."""
        return self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)["result"][
            "value"]

    def open(self, page: Path) -> tuple[str, str]:
        """A new tab showing `page`, loaded: (target id, session id)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        return target, session

    def load(self, page: Path, session: str) -> None:
        """Show `page` in the tab of `session` and wait until it has loaded."""
        self.send("Page.navigate", {"url": page.as_uri()}, session)
        self.wait_for("Page.loadEventFired", session)

    def print_pdf(self, page: Path) -> bytes:
        """`page` printed to PDF, on the paper its @page rule asks for."""
        target, session = self.open(page)
        try:
            self.load(page, session)
            return base64.b64decode(self.send("Page.printToPDF", PRINT_OPTIONS, session, timeout=120)["data"])
        finally:
            self.send("Target.closeTarget", {"targetId": target})

    def close(self) -> None:
        """Close the browser (killed when it does not close within 10 s)."""
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def print_pdfs(pages: list[Path], browser: str | None = None) -> list[Path]:
    """Print each HTML page to `<page without .html>.pdf` beside it, in one browser process; returns the
    PDFs written. `browser` is the browser's path (default: `find_browser()`); without one, nothing is
    written and the list is empty. A browser that fails stops the printing with a logged warning, never
    an error: the pages printed until then are kept."""
    browser = browser or find_browser()
    if not browser or not pages:
        return []
    written = []
    with tempfile.TemporaryDirectory(prefix="sdz-pdf-") as profile:
        try:
            chromium = Chromium(browser, Path(profile))
        except OSError as error:
            LOG.warning("PDFs not written: %s cannot be started (%s)", browser, error)
            return []
        try:
            for page in pages:
                data = chromium.print_pdf(page.resolve())
                page.with_suffix(".pdf").write_bytes(data)
                written.append(page.with_suffix(".pdf"))
        except (RuntimeError, TimeoutError, OSError) as error:  # a PDF is a convenience: never fail the run
            LOG.warning("PDFs not written from %s on: %s failed (%s)", page, browser, error)
        finally:
            chromium.close()
    return written
