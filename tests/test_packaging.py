"""
Tests of the installed package: what a user gets from C{pip install .}.
"""

import os
import subprocess
from importlib import metadata
from pathlib import Path

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.harness import twistdCommand


def installedFiles() -> set[str]:
    try:
        files = metadata.files("chatsvc")
    except metadata.PackageNotFoundError:
        raise SkipTest("chatsvc is not installed, only importable")
    if files is None:
        raise SkipTest("chatsvc's installed files are not recorded")
    return {file.as_posix() for file in files}


class InstalledTests(SynchronousTestCase):
    def test_pluginAndCatalogsInstalled(self) -> None:
        """
        The twistd plugin, the reuseport: endpoint's plugin and the
        compiled catalogs are part of a normal install; Twisted's own
        packages are not shadowed.
        """
        files = installedFiles()
        self.assertIn("twisted/plugins/chatsvc_plugin.py", files)
        self.assertIn("twisted/plugins/chatsvc_reuseport.py", files)
        self.assertIn("chatsvc/locale/pl/LC_MESSAGES/chatsvc.mo", files)
        self.assertNotIn("twisted/__init__.py", files)
        self.assertNotIn("twisted/plugins/__init__.py", files)
        self.assertFalse(any(name.endswith("dropin.cache") for name in files))

    def test_twistdListsChat(self) -> None:
        """
        twistd --help lists the chat plugin.
        """
        environment = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [root, environment.get("PYTHONPATH")])
        )
        result = subprocess.run(
            [*twistdCommand(), "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            env=environment,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"(?m)^\s+chat\s+A small chat server")
