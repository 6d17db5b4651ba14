"""``craft verify --html`` in a real browser: headless Chromium driven by selenium.

The page of pcaps/session.pcap: click an exchange, read the field table, check that each
hex octet has its field's colour; the filters; nothing fetched from the network. A
generated capture of many exchanges: only the rows in view are in the document."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_stats import write_scenario

from craft.dns.answer_cache import Authority
from craft.dns.codec import encode
from craft.dns.names import Name
from craft.dns.zone import default_zones
from craft.dns_client import build_query

REPO = Path(__file__).resolve().parent.parent
SESSION = REPO / "pcaps" / "session.pcap"

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium: make test installs it")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("chromium and chromium-driver: make test installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def report(capture: Path, page: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "craft", "verify", str(capture), "--html",
                           str(page)], capture_output=True, text=True, timeout=300, check=False,
                          cwd=REPO)
    assert page.exists(), done.stderr
    return page.as_uri()


def open_page(browser: Any, url: str) -> None:
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rows .r"))


# Each octet of a panel's dump against the colour of the field-table row covering it.
COLOURS = """
const out = [];
for (const panel of document.querySelectorAll('#detail .msg')) {
  const octets = [...panel.querySelectorAll('.hex .o')];
  for (const row of panel.querySelectorAll('tr.field')) {
    const cell = row.querySelector('td.b'), start = +row.dataset.start, end = +row.dataset.end;
    for (let o = start; o < Math.min(end, octets.length); o++)
      out.push([panel.querySelector('h3').textContent.split(' ')[0], o, row.children[1].textContent,
                getComputedStyle(octets[o]).color, getComputedStyle(cell).color]);
  }
}
return out;
"""


def test_click_an_exchange_and_every_octet_has_its_field_colour(browser: Any,
                                                                tmp_path: Path) -> None:
    open_page(browser, report(SESSION, tmp_path / "session.html"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#rows .r")
    assert len(rows) == 10
    google_ca = next(r for r in rows if "google.ca." in r.text)
    google_ca.click()
    panels = browser.find_elements(By.CSS_SELECTOR, "#detail .msg")
    assert len(panels) == 2
    table = panels[1].find_elements(By.CSS_SELECTOR, "table.fields tbody tr")
    cells = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in table]
    fields = [c[1] for c in cells]
    assert fields[:6] == ["ID", "FLAGS", "QDCOUNT", "ANCOUNT", "NSCOUNT", "ARCOUNT"]
    assert ["QUERY", "QNAME", "06 67 6f 6f 67 6c 65 02 63 61 00", "google.ca."] in cells
    assert ["", "RDATA address", "c0 a5 01 06", "192.165.1.6"] in cells
    assert "qr aa; opcode QUERY; rcode NOERROR" in cells[1][3]
    verdicts = [p.find_element(By.CSS_SELECTOR, ".verdict-line").text for p in panels]
    assert all(v.startswith("scapy: Scapy agrees") for v in verdicts)
    checked = browser.execute_script(COLOURS)
    assert len(checked) >= 27 + 43 - 4  # every octet of both messages (a pointer's 2 aside)
    wrong = [c for c in checked if c[3] != c[4]]
    assert not wrong, wrong[:5]
    by_field = {(c[0], c[2]): c[3] for c in checked}
    assert by_field[("Query", "ID")] != by_field[("Query", "FLAGS")]  # fields do differ
    assert by_field[("Query", "QNAME")] != by_field[("Query", "QTYPE")]


def test_filters_and_problem_links(browser: Any, tmp_path: Path) -> None:
    open_page(browser, report(SESSION, tmp_path / "session.html"))
    name = browser.find_element(By.ID, "f-name")
    name.send_keys("nope")
    rows = browser.find_elements(By.CSS_SELECTOR, "#rows .r")
    assert len(rows) == 1 and "NXDOMAIN" in rows[0].text
    name.clear()
    browser.execute_script("const s = document.getElementById('f-rcode'); s.value = 'REFUSED';"
                           "s.dispatchEvent(new Event('input'));")
    rows = browser.find_elements(By.CSS_SELECTOR, "#rows .r")
    assert len(rows) == 1 and "example.org." in rows[0].text
    # A capture with problems: each kind is listed and its link filters the timeline.
    capture = tmp_path / "cases.pcap"
    write_scenario(capture)
    open_page(browser, report(capture, tmp_path / "cases.html"))
    links = {a.text: a for a in browser.find_elements(By.CSS_SELECTOR, "#problems a")}
    assert set(links) == {"2 exchange(s): unanswered", "1 exchange(s): unsolicited",
                          "1 exchange(s): retransmitted", "1 exchange(s): duplicate",
                          "1 exchange(s): truncated", "1 exchange(s): tc retry"}
    links["2 exchange(s): unanswered"].click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#rows .r")
    assert sorted(r.text.split()[7] for r in rows) == ["gone.test.", "lost.test."]


def test_nothing_is_fetched(browser: Any, tmp_path: Path) -> None:
    open_page(browser, report(SESSION, tmp_path / "session.html"))
    browser.find_elements(By.CSS_SELECTOR, "#rows .r")[0].click()
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    policy = browser.execute_script(
        "return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content")
    assert "default-src 'none'" in policy
    # The policy holds: a fetch the page might try is refused by the browser itself.
    refused = browser.execute_async_script(
        "const done = arguments[0]; fetch('http://127.0.0.1:9/x').then(() => done('fetched'),"
        " () => done('refused'));")
    assert refused == "refused"


def many_exchanges(path: Path, pairs: int) -> None:
    """``pairs`` queries and answers on UDP port 53, written as raw pcap records."""
    authority = Authority(default_zones())
    labs = ["google.com", "youtube.com", "uwaterloo.ca", "amazon.ca"]
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))  # raw IP
        for i in range(pairs):
            query = encode(build_query(Name.from_text(f"h{i}.{labs[i % 4]}."), ident=i & 0xFFFF))
            reply = authority.respond(query, 512) or b""
            for n, (data, ports) in enumerate(((query, (40000 + i % 1000, 53)),
                                               (reply, (53, 40000 + i % 1000)))):
                udp = struct.pack("!HHHH", *ports, 8 + len(data), 0) + data
                hosts = (b"\x7f\x00\x00\x01", b"\x7f\x00\x00\x02")[:: 1 - 2 * n]
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                                 *hosts) + udp
                f.write(struct.pack("<IIII", 1_700_000_000 + i // 100, (i % 100) * 10_000 + n,
                                    len(ip), len(ip)) + ip)


def row_numbers(browser: Any) -> list[str]:
    """The first word (the exchange's number) of each row drawn now, read in one script."""
    texts: list[str] = browser.execute_script(
        "return [...document.querySelectorAll('#rows .r')].map(r => r.innerText.trim());")
    return [t.split()[0] for t in texts if t]


def test_only_the_rows_in_view_are_drawn(browser: Any, tmp_path: Path) -> None:
    capture = tmp_path / "many.pcap"
    many_exchanges(capture, 3000)
    open_page(browser, report(capture, tmp_path / "many.html"))
    count = browser.find_element(By.ID, "count").text
    assert count.lower() == "(3,000 of 3,000)"  # the heading is upper case
    drawn = len(browser.find_elements(By.CSS_SELECTOR, "#rows .r"))
    assert 10 < drawn < 60
    browser.execute_script("const t = document.getElementById('tl'); t.scrollTop = t.scrollHeight;"
                           "t.dispatchEvent(new Event('scroll'));")
    # The list redraws its rows as it scrolls, so rows are read and clicked in one script
    # each: an element reference kept across a redraw would be stale.
    WebDriverWait(browser, 10).until(lambda d: "3000" in row_numbers(d))
    assert len(row_numbers(browser)) < 60
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "const r = [...document.querySelectorAll('#rows .r')]"
        ".find(r => r.innerText.trim().split(/\\s+/)[0] === '3000');"
        "if (r) { r.click(); } return Boolean(r);"))
    assert "h2999.amazon.ca." in browser.find_element(By.ID, "detail").text


def test_past_the_detail_limit_an_exchange_keeps_its_row_and_verdict(browser: Any,
                                                                     tmp_path: Path) -> None:
    """A million messages made an 841 MB page whose details Chromium never showed: past
    --html-detail messages keep their row and Scapy's verdict, not their hex and fields."""
    capture, page = tmp_path / "many.pcap", tmp_path / "limited.html"
    many_exchanges(capture, 50)
    done = subprocess.run([sys.executable, "-m", "craft", "verify", str(capture), "--html",
                           str(page), "--html-detail", "10"], capture_output=True, text=True,
                          timeout=300, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    open_page(browser, page.as_uri())
    assert "the other 90 keep their row" in browser.find_element(By.ID, "limits").text

    def click(number: str) -> str:
        WebDriverWait(browser, 10).until(lambda d: d.execute_script(
            "const r = [...document.querySelectorAll('#rows .r')]"
            f".find(r => r.innerText.trim().split(/\\s+/)[0] === '{number}');"
            "if (r) { r.click(); } return Boolean(r);"))
        return str(browser.find_element(By.ID, "detail").text)

    early = click("1")  # messages 1 and 2 of 100: kept whole
    assert "not kept" not in early and "QNAME" in early and "Scapy agrees" in early
    late = click("20")  # messages 39 and 40
    assert late.count("hex and fields not kept") == 2 and "QNAME" not in late
    assert late.count("scapy: Scapy agrees") == 2
