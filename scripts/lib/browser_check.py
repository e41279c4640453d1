#!/usr/bin/env python3
"""Drives the Security Profiles page in headless Chromium (Debian's chromium + chromedriver, selenium).

Usage: browser_check.py --url http://127.0.0.1:PORT --token WRITE_TOKEN --image IMAGE --tag TAG
                        --root-key KEY --child-key KEY --markup-key KEY --suggestion ID --out DIR

Signs in with the token, checks the overview lists the image with its commonality, opens the
version, checks the process tree renders with commonality colours, expands nodes (lazily loaded),
shows a process whose name holds markup as text (no element, no script), opens a node's side
panel, filters the tree, opens the states, chart, history and anomalies, and accepts the
suggestion from the signals view. Fails (exit 1) on any missing element, any console error
(CSP violations included) or any alert. Screenshots go to DIR.
"""
import argparse
import json
import math
import os
import sys
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, UnexpectedAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("BASELINE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BASELINE_CHROMEDRIVER", "/usr/bin/chromedriver")


class Check:
    def __init__(self, args):
        self.args = args
        self.step = "start"
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1440,1000",
                     "--no-first-run", "--disable-extensions", "--lang=en-GB"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)
        self.wait = WebDriverWait(self.driver, 15)

    # ---- helpers ----

    def say(self, step):
        self.step = step
        print(f"browser_check: {step}", flush=True)

    def shot(self, name):
        path = os.path.join(self.args.out, name)
        self.driver.save_screenshot(path)
        print(f"browser_check: screenshot {path}", flush=True)

    def css(self, selector, root=None):
        return self.wait.until(lambda d: (root or d).find_element(By.CSS_SELECTOR, selector))

    def visible(self, selector):
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def api(self, path):
        request = urllib.request.Request(self.args.url + "/api/v1" + path, headers={"Authorization": "Bearer " + self.args.token})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def console_errors(self):
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def node(self, key):
        return self.css(f'li.tree-node[data-key="{css_string(key)}"]')

    @staticmethod
    def fail(message):
        raise AssertionError(message)

    # ---- the walk-through ----

    def run(self):
        a = self.args
        version_path = "/profiles/" + urllib.parse.quote(a.image, safe="") + "/versions/" + urllib.parse.quote(a.tag, safe="")

        self.say("load the page and sign in")
        self.driver.get(a.url + "/")
        self.css("#token-input").send_keys(a.token)
        self.css("#token-submit").click()
        self.visible("#filters")
        scope = self.css("#session-scope").text
        if scope != "write":
            self.fail(f"the page shows scope {scope!r} for a write token")

        self.say("filter the overview by image name")
        field = self.css("#filter-image")
        field.clear()
        field.send_keys(a.image)
        field.submit()
        row = self.css(f'tr.version[data-image="{css_string(a.image)}"][data-tag="{css_string(a.tag)}"]')
        expected = self.api("/profiles?image=" + urllib.parse.quote(a.image, safe=""))["items"][0]["versions"][0]["commonality"]
        chip = row.find_element(By.CSS_SELECTOR, "td.commonality .cs")
        if chip.text != percent(expected):
            self.fail(f"the overview shows commonality {chip.text!r}, the API says {expected} ({percent(expected)})")
        if f"cs-{math.floor(expected * 10 + 0.5)}" not in chip.get_attribute("class").split():
            self.fail(f"the commonality chip has classes {chip.get_attribute('class')!r} for {expected}")
        group = self.css(f'tr.group[data-image="{css_string(a.image)}"]')
        if a.image not in group.text:
            self.fail("the image group row does not name the image")
        self.shot("overview.png")

        self.say("open the profile version")
        row.find_element(By.CSS_SELECTOR, "a.version-link").click()
        title = self.visible("#profile-title")
        if a.image not in title.text:
            self.fail(f"the profile page's title is {title.text!r}")
        self.css("#profile-commonality .cs")

        self.say("the process tree renders with commonality colours")
        root = self.node(a.root_key)
        root.find_element(By.CSS_SELECTOR, ".tree-row .cs")
        root.find_element(By.CSS_SELECTOR, "button.toggle").click()
        child = self.node(a.child_key)
        markup = self.node(a.markup_key)
        colours = {c.get_attribute("class") for c in self.driver.find_elements(By.CSS_SELECTOR, "#tree .tree-row .cs")}
        if len(colours) < 2:
            self.fail(f"the tree's commonality chips all have one colour: {colours}")

        self.say("a process name holding markup is shown as text")
        name = markup.find_element(By.CSS_SELECTOR, ".node-name").text
        if "<img" not in name:
            self.fail(f"the markup process is shown as {name!r}, not as its text")
        if self.driver.find_elements(By.CSS_SELECTOR, "#app img, #app script"):
            self.fail("text from the API became an element")

        self.say("expand a node: its children load lazily")
        child.find_element(By.CSS_SELECTOR, "button.toggle").click()
        grandchild = self.wait.until(lambda d: child.find_elements(By.CSS_SELECTOR, "ul.tree li.tree-node"))
        if not grandchild:
            self.fail("expanding the node showed no child")

        self.say("open the node's side panel")
        child.find_element(By.CSS_SELECTOR, ".node-name").click()
        panel = self.visible("#node-panel")
        self.wait.until(lambda d: panel.find_elements(By.CSS_SELECTOR, 'table.activities[data-type="file"] tbody tr'))
        files = panel.find_element(By.CSS_SELECTOR, 'table.activities[data-type="file"]').text
        if a.panel_file not in files:
            self.fail(f"the side panel's files do not list {a.panel_file}: {files!r}")
        panel.find_element(By.CSS_SELECTOR, ".cs")
        self.shot("profile-tree.png")

        self.say("filter the tree by path")
        self.css("#tree-filter").send_keys("nginx")
        self.wait.until(lambda d: not markup.is_displayed())
        if not child.is_displayed():
            self.fail("the filter hid the node that matches it")
        self.css("#tree-filter").clear()

        self.say("model states")
        self.css('#tabs a[data-tab="states"]').click()
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#states tbody tr"))
        if "stable" not in self.css("#states").text:
            self.fail("the states table shows no stable event type")

        self.say("commonality over time")
        self.css('#tabs a[data-tab="commonality"]').click()
        points = self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#commonality-chart svg circle.point"))
        if len(points) < 2:
            self.fail(f"the chart has {len(points)} point(s)")
        self.shot("commonality.png")

        self.say("history")
        self.css('#tabs a[data-tab="history"]').click()
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#history tbody tr"))

        self.say("anomalies")
        self.css('#tabs a[data-tab="anomalies"]').click()
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#anomalies tbody tr"))

        self.say("accept the suggestion from the signals view")
        self.css('#tabs a[data-tab="signals"]').click()
        box = self.css(f'.suggestion[data-suggestion="{css_string(a.suggestion)}"]')
        button = self.wait.until(lambda d: box.find_element(By.CSS_SELECTOR, "button.accept-suggestion"))
        self.shot("signals.png")
        button.click()
        self.wait.until(lambda d: "Suppression" in d.find_element(By.ID, "banner").text)
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'.suggestion[data-suggestion="{css_string(a.suggestion)}"] .status-accepted'))
        self.shot("signals-accepted.png")

        errors = self.console_errors()
        if errors:
            self.fail("the browser console has errors: " + "; ".join(e.get("message", "") for e in errors))
        print("browser_check: ok", flush=True)

    def close(self):
        try:
            self.driver.quit()
        except Exception:
            pass


def percent(x):
    """As the page formats a commonality (round to 0.1 %)."""
    value = math.floor(x * 1000 + 0.5) / 10
    return (f"{value:.1f}".rstrip("0").rstrip(".")) + " %"


def css_string(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("url", "token", "image", "tag", "root-key", "child-key", "markup-key", "panel-file", "suggestion", "out"):
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            print(f"browser_check: {path} is missing: install Debian's chromium and chromium-driver (scripts/setup)", file=sys.stderr)
            return 2
    check = Check(args)
    try:
        check.run()
        return 0
    except (AssertionError, TimeoutException, UnexpectedAlertPresentException) as e:
        kind = "timed out waiting" if isinstance(e, TimeoutException) else "an alert opened (script ran)" if isinstance(e, UnexpectedAlertPresentException) else str(e)
        print(f"browser_check: FAILED at '{check.step}': {kind}", file=sys.stderr)
        try:
            check.shot("failure.png")
            open(os.path.join(args.out, "failure.html"), "w", encoding="utf-8").write(check.driver.page_source)
            for entry in check.driver.get_log("browser"):
                print(f"browser_check: console {entry.get('level')}: {entry.get('message')}", file=sys.stderr)
        except Exception:
            pass
        return 1
    finally:
        check.close()


if __name__ == "__main__":
    sys.exit(main())
