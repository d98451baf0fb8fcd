import sys
from playwright.sync_api import sync_playwright
url, out, zoom = sys.argv[1], sys.argv[2], int(sys.argv[3])
def expand(page):
    for _ in range(10):
        unfold = page.locator('[aria-label="unfold_more"]')
        if not unfold.count():
            return
        unfold.first.click()
        page.wait_for_timeout(1500)
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"])
    page = browser.new_page(viewport={"width": 2600, "height": 1500})
    page.goto(url)
    page.wait_for_timeout(6000)
    if page.get_by_role("button", name="Skip").count():
        page.get_by_role("button", name="Skip").first.click()
    expand(page)
    page.reload(); page.wait_for_timeout(6000)
    expand(page)
    page.reload(); page.wait_for_timeout(6000)
    print("collapsed left:", page.locator('[aria-label="unfold_more"]').count())
    for _ in range(zoom):
        page.locator('[aria-label="zoom_out"]').first.click(); page.wait_for_timeout(300)
    page.wait_for_timeout(1500)
    page.screenshot(path=out)
    browser.close()
