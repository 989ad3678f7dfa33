"""``newsdesk chat --watch``: a file dropped into the watched folder is answerable without a restart."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from chat_helpers import SIZE, ask, last_card, wait_for
from fakes import BLINKEN, FakeAssistant

from tui.watching import WatchingApp

HEATWAVE_FILE = ("date 2022-07-20 Weather\nHeatwave grips southern Europe\n"
                 "Temperatures in Seville reached 44 degrees Celsius on Tuesday as the heatwave spread north.\n")


class WatchedFake(FakeAssistant):
    """The fake, with the two things the watcher uses: ``index(..., remove_missing=)`` and ``data``."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.indexing = threading.Event()

    def index(self, paths, *, remove_missing: bool = True, **kwargs):
        self.indexing.set()
        return super().index(paths, **kwargs)

    @property
    def data(self):
        return SimpleNamespace(articles=self._articles)


async def test_dropped_file_becomes_answerable_and_status_says_when(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    assistant = WatchedFake(articles=(BLINKEN,))
    app = WatchingApp(lambda: assistant, folders=[folder], quiet_s=0.3)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.watcher, what="the watcher to start")
            await wait_for(pilot, lambda: "updated" in str(app.status_line.content), what="the catch-up batch")
            t0 = time.perf_counter()
            (folder / "heatwave.txt").write_text(HEATWAVE_FILE, encoding="utf-8")
            await wait_for(pilot, lambda: "2 articles · updated" in str(app.status_line.content),
                           what="the new article")
            print(f"\nchat --watch: file written -> status updated in {time.perf_counter() - t0:.2f} s")
            await ask(pilot, "How hot was it in Seville?")
            assert last_card(app).answer.text == "44 degrees Celsius"
            assert app.busy is None
    finally:
        app.stop_watching()
    assert app.watcher.stopping
