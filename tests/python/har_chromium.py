"""Chromium's side of tests/har_chromium.rs, through Playwright and Debian's chromium.

record URL OUT: loads URL in Chromium and writes the HAR Chromium itself records to OUT.
replay HAR URL: serves URL and its subresources from HAR only (no network: anything not in
the file is aborted), and prints what the page became, as JSON.
*.minibrowse.test is mapped to 127.0.0.1, so nothing leaves loopback.
"""
import asyncio
import json
import sys

from playwright.async_api import async_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP *.minibrowse.test 127.0.0.1"]


async def record(url, out):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = await browser.new_context(record_har_path=out, record_har_content="embed")
        page = await context.new_page()
        await page.goto(url, wait_until="load")
        await context.close()
        await browser.close()


async def replay(har, url):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = await browser.new_context()
        await context.route_from_har(har, not_found="abort")
        page = await context.new_page()
        finished, failed = [], []
        page.on("requestfinished", lambda r: finished.append(r.url))
        page.on("requestfailed", lambda r: failed.append(r.url))
        await page.goto(url, wait_until="load")
        result = {
            "title": await page.title(),
            "finished": len(finished),
            "failed": failed,
            "image_width": await page.evaluate(
                "document.images.length ? document.images[0].naturalWidth : 0"
            ),
        }
        await browser.close()
        print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "record":
        asyncio.run(record(sys.argv[2], sys.argv[3]))
    else:
        asyncio.run(replay(sys.argv[2], sys.argv[3]))
