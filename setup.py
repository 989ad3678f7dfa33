"""Build hook: the wheel carries the shipped reader and the bundled articles.

``models/reader`` and ``seeds`` stay at the top of the repository; building a
wheel copies them into ``qa/_bundled/`` so an installed Newsdesk finds them
as package data (see ``qa.resources``). Editable installs read them from the
checkout instead.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = {"models/reader": "qa/_bundled/reader", "seeds": "qa/_bundled/seeds"}
SKIP = shutil.ignore_patterns("*.tmp", "__pycache__")


class BuildPyWithBundled(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, target in BUNDLED.items():
            destination = Path(self.build_lib) / target
            shutil.rmtree(destination, ignore_errors=True)
            shutil.copytree(ROOT / source, destination, ignore=SKIP)


setup(cmdclass={"build_py": BuildPyWithBundled})
