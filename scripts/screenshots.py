#!/usr/bin/env python3
"""Writes docs/search.png and docs/archived-copy.png: the search page answering a question on the
sample archive, and the archived copy its first result opens, quote highlighted. Uses Debian's
Chromium through selenium, as the browser tests do.

    .venv/bin/python scripts/screenshots.py
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUESTION = "why did IBM quit facial recognition?"


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from bot.web import server as web
    from bot.slack.app import create_app
    from fakeslack import FakeSlack
    from index.storing.build import build
    from index.config import load, parse

    example = load(str(ROOT / "config.example.toml"))
    with tempfile.TemporaryDirectory() as d:
        cfg = parse({"index": {"path": f"{d}/idx"}, "sources": [
            {"path": str(ROOT / s.path), "format": s.format, "fields": dict(s.fields), **({"site": s.site} if s.site else {})}
            for s in example.sources]}, ROOT)
        build(cfg)
        fake = FakeSlack()
        cfg = parse({"index": {"path": f"{d}/idx"}, "slack": {"api_base_url": fake.api_url},
                     "web": {"search": True, "public_search": True}}, ROOT)
        app = create_app(cfg, bot_token="xoxb-docs", signing_secret="s")
        server = web.server(app, "s", "127.0.0.1", 0)
        threading.Thread(target=server.run, daemon=True).start()
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=900,1000"):
            opts.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        try:
            driver.get(f"http://127.0.0.1:{server.effective_port}/")
            box = driver.find_element(By.NAME, "q")
            box.send_keys(QUESTION)
            box.submit()
            driver.find_element(By.CSS_SELECTOR, "blockquote")
            (ROOT / "docs").mkdir(exist_ok=True)
            driver.save_screenshot(str(ROOT / "docs" / "search.png"))
            driver.find_element(By.CSS_SELECTOR, "h3 a").click()
            driver.find_element(By.ID, "quote")
            driver.save_screenshot(str(ROOT / "docs" / "archived-copy.png"))
        finally:
            driver.quit()
            server.close()
            fake.close()
    print("wrote docs/search.png and docs/archived-copy.png")


if __name__ == "__main__":
    main()
