"""Headless Chromium driven over the DevTools protocol on a pipe: no WebSocket, no extra package, no download.

``--remote-debugging-pipe`` makes Chromium read protocol messages (JSON, each ended by a NUL byte)
from file descriptor 3 and write its answers and events to descriptor 4. One browser serves a
whole test session; each page gets its own tab. A page's console errors, uncaught exceptions and
errors the browser logs (a Content-Security-Policy violation, a failed load) are collected.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TIMEOUT = 60.0

# Run in the child before Chromium: put the protocol pipe at descriptors 3 and 4 (moving both out of
# the way first, so that neither is overwritten by the other), then become Chromium.
_PLACE_PIPES = """
import fcntl, os, sys
read, write = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])
os.dup2(read, 3)
os.dup2(write, 4)
os.close(read)
os.close(write)
os.execv(sys.argv[3], sys.argv[3:])
"""


class BrowserError(RuntimeError):
    pass


class Browser:
    def __init__(self, executable: str, profile: Path) -> None:
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _PLACE_PIPES, str(commands_read), str(answers_write), executable, "--headless",
             "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
             "--disable-dev-shm-usage", "--hide-scrollbars", "--force-color-profile=srgb", "--font-render-hinting=none",
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(commands_read, answers_write), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(answers_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    # -- protocol ---------------------------------------------------------------------------------

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        for index, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(index)
        while True:
            event = self._read(deadline)
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self.events.append(event)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._answers], [], [], remaining)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the DevTools pipe (did it start?)")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)  # type: ignore[no-any-return]

    # -- pages ------------------------------------------------------------------------------------

    def open(self, url: str, width: int = 1200, height: int = 900) -> Page:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session)
        self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired", session)
        return Page(self, target, session)

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._commands)
        os.close(self._answers)


class Page:
    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser, self.target, self.session = browser, target, session

    def evaluate(self, expression: str) -> Any:
        result = self.browser.call("Runtime.evaluate", self.session, expression=expression, returnByValue=True,
                                   awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, clip: dict[str, float] | None = None) -> bytes:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if clip is None:
            size = self.evaluate("({width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight})")
            clip = {"x": 0, "y": 0, **size}
        params["clip"] = {**clip, "scale": 1}
        return base64.b64decode(self.browser.call("Page.captureScreenshot", self.session, **params)["data"])

    def console_errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and browser-logged errors of this page so far."""
        found = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                continue
            params = event.get("params", {})
            method = event.get("method")
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                found.append(params["entry"].get("text", ""))
        return found

    def close(self) -> None:
        self.browser.call("Target.closeTarget", targetId=self.target)


# Counting colours in regions of a PNG, done by the browser's own decoder in a blank tab (no CSP there).
_COUNT_COLOURS = """
(async () => {
  const image = new Image();
  image.src = "data:image/png;base64,%s";
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const regions = %s, tolerance = %d;
  return regions.map((region) => {
    const c = region.clip;
    const data = context.getImageData(Math.round(c.x), Math.round(c.y), Math.round(c.width), Math.round(c.height)).data;
    const counts = region.colours.map(() => 0);
    for (let i = 0; i < data.length; i += 4) {
      for (let k = 0; k < region.colours.length; k++) {
        const rgb = region.colours[k];
        if (Math.abs(data[i] - rgb[0]) <= tolerance && Math.abs(data[i + 1] - rgb[1]) <= tolerance
            && Math.abs(data[i + 2] - rgb[2]) <= tolerance) { counts[k]++; break; }
      }
    }
    return counts;
  });
})()
"""


def colour_counts(scratch: Page, png: bytes, regions: list[tuple[dict[str, float], list[str]]],
                  tolerance: int = 24) -> list[dict[str, int]]:
    """For each (clip, colours ``#rrggbb``): how many pixels of the clip have each colour, within ``tolerance`` per channel."""
    wanted = [{"clip": clip, "colours": [[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colours]} for clip, colours in regions]
    counts = scratch.evaluate(_COUNT_COLOURS % (base64.b64encode(png).decode(), json.dumps(wanted), tolerance))
    return [dict(zip(colours, found, strict=True)) for (_, colours), found in zip(regions, counts, strict=True)]


# Every chart's text boxes, plot area and series, as the browser laid them out.
CHART_GEOMETRY = """
Array.from(document.querySelectorAll("svg[role=img]")).map((svg) => {
  const box = svg.getBoundingClientRect();
  const rect = (r) => ({x: r.x + window.scrollX, y: r.y + window.scrollY, width: r.width, height: r.height});
  const texts = Array.from(svg.querySelectorAll("text")).map((t) => ({text: t.textContent, box: rect(t.getBoundingClientRect())}));
  const grid = Array.from(svg.querySelectorAll("line.grid")).map((l) => l.getBoundingClientRect());
  const left = Math.min(...grid.map((g) => g.left)), right = Math.max(...grid.map((g) => g.right));
  const top = Math.min(...grid.map((g) => g.top)), bottom = Math.max(...grid.map((g) => g.bottom));
  const series = Array.from(svg.querySelectorAll("g.series")).map((g) => ({
    name: g.dataset.series, colour: g.dataset.colour, marks: g.querySelectorAll("path,circle,rect").length}));
  return {title: svg.getAttribute("aria-label"), box: rect(box), texts: texts, series: series,
          plot: {x: left + window.scrollX, y: top + window.scrollY - 6, width: right - left, height: bottom - top + 12}};
})
"""


def overlapping(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of text boxes that overlap (touching edges do not count)."""
    pairs = []
    for i, first in enumerate(boxes):
        a = first["box"]
        for second in boxes[i + 1:]:
            b = second["box"]
            if a["width"] and b["width"] and a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] \
                    and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]:
                pairs.append((first["text"], second["text"]))
    return pairs
