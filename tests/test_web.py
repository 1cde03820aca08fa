"""The archive on the web, in a real browser (Debian's Chromium through selenium): search from /, open
an archived copy from a result and see the quote highlighted in view; hostile article text stays text;
signed links cannot be forged, altered or used after they expire; the search pages need a token."""
import json
import os
import sys
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from bot.web import server as web
from bot.slack.app import create_app
from conftest import extended_index, folder_with, free_port
from fakeslack import FakeSlack
from index.config import parse
from index.searching.links import Signer, load_secret
from index.searching.search import Searcher

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
TOKEN = "test-web-token"
SCRIPT_TITLE = "Harbour Council Notice With Embedded Script"
IBM = "IBM Quits Facial Recognition, Joins Call For Police Reforms"


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample_index, embedder):
    root = tmp_path_factory.mktemp("web")
    extra = folder_with(root / "extra", {"script.md":
        f"---\ntitle: {SCRIPT_TITLE}\ndate: 2021-05-04\n---\n\n"
        "The harbour council posted a notice that read <script>alert(1)</script> on its website on Tuesday, "
        "and officials removed the notice an hour later after residents complained about it.\n"})
    union = extended_index(root, sample_index, embedder, extra)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    fake = FakeSlack()  # the app checks its token with Slack as it starts
    cfg = parse({"index": {"path": str(union.index_dir())}, "web": {"public_url": url, "search": True},
                 "slack": {"api_base_url": fake.api_url}}, root)
    app = create_app(cfg, bot_token="xoxb-test", signing_secret="s",
                     searcher=Searcher(cfg.index_dir(), embedder, cfg.search))
    server = web.server(app, "s", "127.0.0.1", port, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    signer = Signer(load_secret(cfg.index_dir()), url, cfg.web.link_days)
    yield {"url": url, "cfg": cfg, "signer": signer, "app": app, "fake": fake}
    server.close()
    fake.close()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("Debian's chromium and chromium-driver are needed (scripts/test.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1000,700"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def get(url: str, cookie: str = "") -> tuple[int, str, dict]:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def in_viewport(driver, element) -> bool:
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;", element)


def navigate(browser, leave, path: str) -> None:
    """Does what leaves the page (a submit, a click) and waits until the page at `path` has loaded:
    chromedriver does not always wait for a navigation a script or a click starts, and a find right
    after it can then look at the page being left (a CI run failed so)."""
    from selenium.webdriver.support.ui import WebDriverWait

    before = browser.current_url
    leave()
    WebDriverWait(browser, 60).until(lambda d: d.current_url != before
                                     and urllib.parse.urlsplit(d.current_url).path.startswith(path)
                                     and d.execute_script("return document.readyState") == "complete")


def article_id(site, title: str) -> str:
    store = site["app"].bot.searcher.store
    (aid,) = [r[0] for r in store.conn.execute("SELECT article_id FROM articles WHERE title = ?", (title,))]
    return aid


def test_search_then_open_the_archived_copy_with_the_quote_in_view(site, browser, monkeypatch):
    from selenium.webdriver.common.by import By

    browser.get(f"{site['url']}/?token={TOKEN}")  # no ARCHIVIST_WEB_TOKEN set: no token opens the pages
    assert browser.find_element(By.TAG_NAME, "h1").text == "Token needed"
    monkeypatch.setenv("ARCHIVIST_WEB_TOKEN", TOKEN)
    browser.get(f"{site['url']}/?token={TOKEN}")
    assert browser.current_url == f"{site['url']}/"  # the token became a cookie and left the address
    box = browser.find_element(By.NAME, "q")
    box.send_keys("why did IBM quit facial recognition?")
    navigate(browser, box.submit, "/search")
    titles = browser.find_elements(By.CSS_SELECTOR, "h3 a")
    assert titles, browser.find_element(By.TAG_NAME, "body").text  # what the page said instead
    first = titles[0]
    assert first.text == IBM
    quote = browser.find_element(By.CSS_SELECTOR, "blockquote").text
    navigate(browser, first.click, "/a/")  # no URL of its own: the title opens the archived copy, at the quote
    assert browser.find_element(By.TAG_NAME, "h1").text == IBM
    mark = browser.find_element(By.ID, "quote")
    assert quote.startswith(mark.text[:40])
    assert in_viewport(browser, mark)
    assert browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor", mark) == "rgb(255, 229, 138)"


def test_the_pages_as_a_person_sees_them(site, browser, monkeypatch, tmp_path):
    """Checked on the rendered page, with a screenshot of each kept in the test's folder: one article's
    passages under one title, its date line right under the title, the archived copy with a header and
    a way back to the search, and dates on the 'nothing' page whole on a phone-width window."""
    from selenium.webdriver.common.by import By

    def box(element) -> dict:
        return browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", element)

    monkeypatch.setenv("ARCHIVIST_WEB_TOKEN", TOKEN)
    browser.set_window_size(1000, 900)
    browser.get(f"{site['url']}/search?" + urllib.parse.urlencode({"q": "what did Robert Mugabe do", "token": TOKEN}))
    assert len(browser.find_elements(By.CSS_SELECTOR, "blockquote")) == 3
    [title] = browser.find_elements(By.CSS_SELECTOR, "h3")  # three passages of one article: its title once
    assert title.text == "Longtime leader of Zimbabwe Robert Mugabe dies aged 95 · archived copy"
    byline = browser.find_element(By.CSS_SELECTOR, "h3 + .meta")
    assert 0 <= box(byline)["top"] - box(title)["bottom"] <= 6  # the date line belongs to the title above it
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "blockquote + .meta a")] == \
        ["this passage", "archived copy"] * 2  # the 2nd and 3rd passages: links of their own
    assert browser.save_screenshot(str(tmp_path / "passages.png"))

    navigate(browser, browser.find_element(By.CSS_SELECTOR, "h3 a.meta").click, "/a/")  # the archived copy beside the title
    assert browser.find_element(By.CSS_SELECTOR, "header a").text == "Archivist"
    back = browser.find_element(By.LINK_TEXT, "← Search the archive")
    assert in_viewport(browser, back) or browser.execute_script("return window.scrollY") > 0  # scrolled to the quote
    assert browser.save_screenshot(str(tmp_path / "archived-copy.png"))
    navigate(browser, back.click, "/")
    assert browser.find_element(By.NAME, "q") is not None

    browser.set_window_size(360, 800)
    browser.get(f"{site['url']}/search?" + urllib.parse.urlencode({"q": "what is a Roth IRA"}))
    assert browser.find_element(By.CSS_SELECTOR, ".note").text.startswith("Nothing in the archive")
    dates = browser.find_elements(By.CSS_SELECTOR, "li .meta span")
    assert dates and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d.text) for d in dates)
    line = browser.execute_script("return parseFloat(getComputedStyle(arguments[0]).lineHeight)", dates[0])
    assert all(box(d)["height"] <= line * 1.2 for d in dates)  # one line each: never broken at a hyphen
    assert browser.save_screenshot(str(tmp_path / "nothing-narrow.png"))
    browser.set_window_size(1000, 700)


def test_script_in_an_article_is_shown_as_text_and_never_runs(site, browser):
    from selenium.webdriver.common.by import By

    aid = article_id(site, SCRIPT_TITLE)
    text = site["app"].bot.searcher.store.article(aid).text
    start = text.index("<script>")
    browser.get(site["url"] + site["signer"].path(aid, start, start + len("<script>alert(1)</script>")))
    assert browser.find_element(By.ID, "quote").text == "<script>alert(1)</script>"
    assert browser.execute_script("return document.scripts.length") == 0
    assert "alert" not in [a.get_attribute("onclick") for a in browser.find_elements(By.TAG_NAME, "a")]
    status, _, headers = get(site["url"] + site["signer"].path(aid))
    assert status == 200 and "script-src" not in headers["Content-Security-Policy"]  # default-src 'none' forbids it
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["Referrer-Policy"] == "no-referrer"


def test_forged_altered_and_expired_links_get_403(site):
    aid = article_id(site, SCRIPT_TITLE)
    other = article_id(site, "Iranian cargo plane crashes into Karaj houses")
    good = site["signer"].path(aid, 0, 20)
    assert get(site["url"] + good)[0] == 200
    forged = re.sub(r"sig=[0-9a-f]+", "sig=" + "0" * 32, good)
    altered_span = good.replace("q=0-20", "q=0-2000")
    other_article = good.replace(aid, other)
    expired = site["signer"].path(aid, 0, 20, now=time.time() - 31 * 86400)
    unsigned = f"/a/{aid}"
    for url in (forged, altered_span, other_article, expired, unsigned):
        status, body, _ = get(site["url"] + url)
        assert status == 403 and "This link is not valid or has expired" in body, url
    assert get(site["url"] + "/a/..%2f..%2fetc%2fpasswd")[0] == 404  # not an article path at all
    assert get(site["url"] + "/a/not-an-id?exp=1&sig=x")[0] == 403
    assert get(site["url"] + f"/a/{aid}?" + "&".join(f"x{i}=1" for i in range(50)))[0] == 400
    missing = Signer(site["signer"].secret, "", 30).path("0123456789ab")
    assert get(site["url"] + missing)[0] == 404


@pytest.mark.parametrize("query", ["exp=%C2%B2&sig=x", "exp=" + "9" * 5000 + "&sig=x", "exp=1&sig=%C3%A9",
                                   "q=%C2%B9-%C2%B2&exp=1&sig=x"])
def test_links_with_odd_numbers_get_403_not_500(site, caplog, query):
    """"²".isdigit() holds and int() of 5,000 digits raises: each was a 500 with a traceback."""
    aid = article_id(site, SCRIPT_TITLE)
    with caplog.at_level("INFO"):
        assert get(site["url"] + f"/a/{aid}?{query}")[0] == 403
    assert not [r for r in caplog.records if r.exc_info]


def test_a_non_ascii_token_is_refused_not_a_500(site, monkeypatch, caplog):
    monkeypatch.setenv("ARCHIVIST_WEB_TOKEN", TOKEN)
    for bad in ("%C3%A9", TOKEN + "%C3%A9"):
        with caplog.at_level("INFO"):
            status, body, _ = get(site["url"] + f"/?token={bad}")
        assert status == 403 and "Token needed" in body
    status, _, _ = get(site["url"] + "/search?q=IBM", cookie="archivist_token=é")
    assert status == 403
    assert not [r for r in caplog.records if r.exc_info]


def test_search_pages_are_off_unless_enabled_and_need_a_token(site, tmp_path, monkeypatch):
    status, body, _ = get(site["url"] + "/search?q=IBM")
    assert status == 403 and "Token needed" in body
    monkeypatch.setenv("ARCHIVIST_WEB_TOKEN", TOKEN)
    status, _, headers = get(site["url"] + f"/search?q=IBM&token={TOKEN}")
    assert status == 303 and headers["Location"] == "/search?q=IBM"
    assert headers["Set-Cookie"].startswith(f"archivist_token={TOKEN}; HttpOnly")
    status, body, _ = get(site["url"] + "/search?q=IBM", cookie=f"archivist_token={TOKEN}")
    assert status == 200 and "IBM Quits Facial Recognition" in body
    assert get(site["url"] + "/search?q=IBM", cookie="archivist_token=wrong")[0] == 403
    status, body, _ = get(site["url"] + "/summarize?q=Iranian+cargo+plane", cookie=f"archivist_token={TOKEN}")
    assert status == 200 and "Iranian cargo plane crashes into Karaj houses" in body and body.count("<blockquote>") == 3
    off = parse({"index": {"path": str(site["cfg"].index_dir())},  # [web] search defaults to off
                 "slack": {"api_base_url": site["fake"].api_url}}, tmp_path)
    app = create_app(off, bot_token="xoxb-test", signing_secret="s", searcher=site["app"].bot.searcher)
    port = free_port()
    server = web.server(app, "s", "127.0.0.1", port)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        status, body, _ = get(f"http://127.0.0.1:{port}/?token={TOKEN}")
        assert status == 404 and "The search pages are off" in body
    finally:
        server.close()


def test_ask_json_carries_both_links(site):
    from conftest import run_cli

    cfg = site["cfg"].base_dir / "web.toml"
    cfg.write_text(f'[index]\npath = "{site["cfg"].index_dir()}"\n[web]\npublic_url = "{site["url"]}"\n')
    out = run_cli("ask", "--json", "Iranian cargo plane crash Karaj", "--config", cfg)
    p = json.loads(out.stdout)["passages"][0]
    assert p["quote_url"].startswith(p["url"] + "#:~:text=")
    assert p["archived_url"].startswith(f"{site['url']}/a/{p['article_id']}?q={p['start']}-{p['end']}&exp=")
    assert get(p["archived_url"])[0] == 200


def test_socket_mode_serves_the_pages_beside_the_connection(site, tmp_path):
    """`archivist serve --web-port`: the archive's pages on their own port while Socket Mode runs."""
    import subprocess

    from fakeslack import SocketModeServer

    ws = SocketModeServer()
    site["fake"].ws_url = ws.url
    port = free_port()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[index]\npath = "{site["cfg"].index_dir()}"\n[slack]\napi_base_url = "{site["fake"].api_url}"\n')
    exe = Path(sys.executable).parent / "archivist"
    proc = subprocess.Popen([str(exe), "--config", str(cfg), "serve", "--web-port", str(port)],
                            env={**os.environ, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        aid = article_id(site, SCRIPT_TITLE)
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body, _ = get(f"http://127.0.0.1:{port}" + site["signer"].path(aid))
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
                time.sleep(0.3)
        assert status == 200 and SCRIPT_TITLE in body
        assert ws.connected()  # and the Socket Mode connection is up beside them
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        ws.close()


def test_the_pages_run_alone_without_slack(site, tmp_path):
    """`archivist web`: search, summaries and archived copies with no Slack token and no Slack to reach."""
    import subprocess

    port = free_port()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[index]\npath = "{site["cfg"].index_dir()}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    exe = Path(sys.executable).parent / "archivist"
    proc = subprocess.Popen([str(exe), "--config", str(cfg), "web", "--port", str(port)],
                            env={**env, "ARCHIVIST_WEB_TOKEN": TOKEN}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body, _ = get(url + "/search?q=IBM", cookie=f"archivist_token={TOKEN}")
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
                time.sleep(0.3)
        assert status == 200 and IBM in body
        status, body, _ = get(url + "/summarize?q=Iranian+cargo+plane", cookie=f"archivist_token={TOKEN}")
        assert status == 200 and "Iranian cargo plane crashes into Karaj houses" in body
        aid = article_id(site, SCRIPT_TITLE)
        status, body, _ = get(url + site["signer"].path(aid))  # the index's own key signs its links
        assert status == 200 and SCRIPT_TITLE in body
        assert get(url + "/search?q=IBM")[0] == 403  # still behind the token
        req = urllib.request.Request(url + "/slack/events", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 401  # no Slack here
    finally:
        proc.terminate()
        _, log = proc.communicate(timeout=30)
    assert f"serving the archive's pages on {url}/ (health: /healthz)" in log and "Traceback" not in log


def test_the_token_cookie_is_secure_when_the_pages_are_public_over_https(site, monkeypatch):
    import threading as th
    from dataclasses import replace
    from wsgiref.util import setup_testing_defaults

    from bot.service import Bot

    monkeypatch.setenv("ARCHIVIST_WEB_TOKEN", TOKEN)
    cfg = site["cfg"]
    headers = {}
    for public in ("http://127.0.0.1:1", "https://archive.example.com"):
        bot = Bot(replace(cfg, web=replace(cfg.web, public_url=public)), site["app"].bot.searcher,
                  site["app"].bot.state, th.Lock(), site["signer"])
        environ = {"PATH_INFO": "/", "QUERY_STRING": f"token={TOKEN}"}
        setup_testing_defaults(environ)
        web.wsgi(None, None, bot)(environ, lambda status, h: headers.update({public: dict(h)}))
    assert headers["https://archive.example.com"]["Set-Cookie"].endswith("; Path=/; Secure")
    assert headers["http://127.0.0.1:1"]["Set-Cookie"].endswith("; Path=/")


@pytest.mark.parametrize("content, why", [
    ("", "it is empty"), ("zz-not-hex", "it is not hexadecimal"), ("00ff", "it holds 2 bytes, under 16")])
def test_a_link_key_that_is_no_key_is_refused_with_one_line(tmp_path, monkeypatch, content, why):
    """An empty link-secret file was an empty HMAC key: anyone could sign a link (`sig=` made with b""
    opened the page). A non-hex one gave a traceback from `ask`."""
    from conftest import run_cli
    from index.searching.links import LinkKeyError

    monkeypatch.delenv("ARCHIVIST_LINK_SECRET", raising=False)
    (tmp_path / "link-secret").write_text(content)
    with pytest.raises(LinkKeyError) as e:
        load_secret(tmp_path)
    assert str(e.value) == (f"{tmp_path / 'link-secret'} is not a link key ({why}): restore it from a replica's copy, "
                            "or delete it to make a new one (archived-copy links already shared then stop working)")
    (tmp_path / "link-secret").unlink()
    assert len(load_secret(tmp_path)) == 32  # none yet: one is made
    monkeypatch.setenv("ARCHIVIST_LINK_SECRET", "short")
    with pytest.raises(LinkKeyError, match="ARCHIVIST_LINK_SECRET is 5 bytes long"):
        load_secret(tmp_path)


def test_ask_with_a_damaged_link_key_says_so_in_one_line(site, tmp_path):
    from conftest import run_cli

    index = tmp_path / "idx"
    shutil.copytree(site["cfg"].index_dir(), index)
    (index / "link-secret").write_text("not hex")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[index]\npath = "{index}"\n[web]\npublic_url = "http://127.0.0.1:1"\n')
    out = run_cli("--config", cfg, "ask", "IBM", env={"ARCHIVIST_LINK_SECRET": ""})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (f"error: {index / 'link-secret'} is not a link key (it is not hexadecimal): restore it "
                                  "from a replica's copy, or delete it to make a new one (archived-copy links already "
                                  "shared then stop working)")
