#!/usr/bin/env python3
"""Save docs/verify-report.png: craft verify's page for pcaps/session.pcap in headless
Chromium, with the google.ca exchange clicked (selenium and chromium-driver, which
make test installs)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    out = REPO / "docs" / "verify-report.png"
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "session.html"
        subprocess.run([sys.executable, "-m", "craft", "verify", "pcaps/session.pcap", "--html",
                        str(page)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--hide-scrollbars",
                     "--window-size=1400,1640", f"--user-data-dir={tmp}/profile"):
            options.add_argument(flag)
        service = webdriver.ChromeService(shutil.which("chromedriver") or "chromedriver")
        driver = webdriver.Chrome(service=service, options=options)
        try:
            driver.get(page.as_uri())
            WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rows .r"))
            row = next(r for r in driver.find_elements(By.CSS_SELECTOR, "#rows .r")
                       if "google.ca." in r.text)
            row.click()
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    print(f"saved {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
