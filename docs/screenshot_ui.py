"""Retake the README's screenshots of the Dagster UI (Playwright driving Debian's Chromium).

    sdz ui --port 3111 &                       # on a warehouse that has run once
    pip install playwright==1.65.2            # not a project dependency: only this script uses it
    python docs/screenshot_ui.py http://127.0.0.1:3111 docs/
"""

import sys

from playwright.sync_api import Page, sync_playwright

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def open_lineage(page: Page, base: str) -> None:
    page.goto(base + "/asset-groups")
    page.wait_for_timeout(6000)
    if page.get_by_role("button", name="Skip").count():  # the community pop-up of a new browser profile
        page.get_by_role("button", name="Skip").first.click()


def expand_groups(page: Page) -> None:
    for _ in range(10):
        unfold = page.locator('[aria-label="unfold_more"]')
        if not unfold.count():
            return
        unfold.first.click()
        page.wait_for_timeout(1500)


def main(base: str, folder: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1800, "height": 1000})
        open_lineage(page, base)
        page.screenshot(path=f"{folder}/ui_stages.png")
        page.set_viewport_size({"width": 2600, "height": 1500})
        for _ in range(2):  # the expanded layout is fitted to the window on the next load
            expand_groups(page)
            page.reload()
            page.wait_for_timeout(6000)
        for _ in range(3):
            page.locator('[aria-label="zoom_out"]').first.click()
            page.wait_for_timeout(300)
        page.screenshot(path=f"{folder}/ui_assets.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
