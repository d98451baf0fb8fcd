"""PDFs of the HTML pages sdz writes, printed on A4 by a headless Chromium when one is installed.

`print_pdfs(pages)` writes `<page>.pdf` beside each page, all pages in one browser process (started once),
driven over the DevTools protocol on a pipe: no port is opened. Pages print a few at a time in tabs of
their own, which Chromium renders in parallel (the demo's four report pages: 2.2-2.7 s against 3.0 s one
by one). `PdfPrinter` prints in a thread while the caller renders the next pages: the browser works on
the other core. The page's own print CSS (`templates/print.css.j2`: `@page` A4 and margins) sets the
paper. Without a browser nothing is printed and the caller says so in one line; the HTML pages and
workbooks never depend on it. A PDF holds its creation time, so unlike the pages it is not byte-reproducible.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import queue
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

# Names of a Chromium-based browser on PATH, in the order tried.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
# Page.printToPDF: the page's @page rule decides paper and margins; backgrounds (table header fills) print.
PRINT_OPTIONS = {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False}
# Pages printed at once, each in its own tab: enough to keep two cores busy, few enough to bound memory.
TABS = 4
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
        self._answers: dict[int, dict] = {}

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

    def post(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        """Call a DevTools method without waiting; returns the call's id for `answer`."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._id

    def answer(self, call: int, method: str, timeout: float = 30) -> dict:
        """The result of call `call` (of `method`); answers to other calls and events received meanwhile are kept."""
        deadline = time.monotonic() + timeout
        while call not in self._answers:
            message = self._message(deadline)
            if "id" in message:
                self._answers[message["id"]] = message
            else:
                self.events.append(message)
        answer = self._answers.pop(call)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        """Call a DevTools method and return its result; events received meanwhile are kept in `events`."""
        return self.answer(self.post(method, params, session), method, timeout)

    def wait_for(self, method: str, session: str, timeout: float = 30) -> None:
        """Wait until the event `method` has arrived for `session`."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method and e.get("sessionId") == session for e in self.events):
            message = self._message(deadline)
            if "id" in message:
                self._answers[message["id"]] = message
            else:
                self.events.append(message)

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

    def print_pdfs(self, pages: list[Path]) -> list[bytes]:
        """`pages` printed to PDF, on the paper their @page rule asks for, all at once in tabs of their own."""
        tabs = [self.open(page) for page in pages]
        try:
            for page, (_, session) in zip(pages, tabs, strict=True):
                self.send("Page.navigate", {"url": page.as_uri()}, session)
            for _, session in tabs:
                self.wait_for("Page.loadEventFired", session)
            calls = [self.post("Page.printToPDF", PRINT_OPTIONS, session) for _, session in tabs]
            return [base64.b64decode(self.answer(call, "Page.printToPDF", timeout=120)["data"]) for call in calls]
        finally:
            for target, _ in tabs:
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
    return print_batches([pages], browser or find_browser())


def print_batches(batches: Iterable[list[Path]], browser: str | None) -> list[Path]:
    """`print_pdfs` of each batch of pages in turn, as they come, in one browser process started at once."""
    if not browser:
        return []
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sdz-pdf-") as profile:
        try:
            chromium = Chromium(browser, Path(profile))
        except OSError as error:
            LOG.warning("PDFs not written: %s cannot be started (%s)", browser, error)
            return []
        try:
            for batch in batches:
                for start in range(0, len(batch), TABS):
                    pages = batch[start:start + TABS]
                    for page, data in zip(pages, chromium.print_pdfs([page.resolve() for page in pages]), strict=True):
                        page.with_suffix(".pdf").write_bytes(data)
                        written.append(page.with_suffix(".pdf"))
        except (RuntimeError, TimeoutError, OSError) as error:  # a PDF is a convenience: never fail the run
            LOG.warning("PDFs not written from %s on: %s failed (%s)", pages[0], browser, error)
        finally:
            chromium.close()
    return written


class PdfPrinter:
    """`print_pdfs` in a thread, started at once: `add(pages)` as pages are written, and leaving the `with`
    block waits for the PDFs (`written`). Without a browser nothing is printed."""

    def __init__(self, browser: str | None) -> None:
        self._batches: queue.Queue[list[Path] | None] = queue.Queue()
        self.written: list[Path] = []
        self._thread = threading.Thread(target=self._print, args=(browser,), name="sdz-pdf", daemon=True)
        if browser:
            self._thread.start()

    def _print(self, browser: str) -> None:
        self.written = print_batches(iter(self._batches.get, None), browser)

    def add(self, pages: list[Path]) -> None:
        """Print these pages too."""
        if pages:
            self._batches.put(pages)

    def __enter__(self) -> PdfPrinter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._batches.put(None)
        if self._thread.is_alive():
            self._thread.join()
