"""
The C baselines' Debian packages (ngircd, InspIRCd), installed by the bench
itself when missing, so that a fresh machine runs the same comparison.

apt is told not to start the packages' services (a C{policy-rc.d} that
answers 101, "action forbidden", for the length of the install, when the
machine has none): the bench starts its own instances on ports of its own
and must never measure, or stop, a daemon it did not start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# Package name -> the daemon it ships.
DAEMONS = {"ngircd": "/usr/sbin/ngircd", "inspircd": "/usr/sbin/inspircd"}
POLICY = Path("/usr/sbin/policy-rc.d")
APT_TIMEOUT = 600


def missing(packages: list[str]) -> list[str]:
    return [p for p in packages if not os.access(DAEMONS[p], os.X_OK)]


def ensureInstalled(packages: list[str]) -> dict[str, str]:
    """
    Install whichever of C{packages} is missing; return why each that is
    still missing could not be installed (nothing when all are there).
    """
    wanted = missing(packages)
    if not wanted:
        return {}
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        why = "not installed, and installing needs root and apt-get"
        return {p: why for p in wanted}
    ownPolicy = not POLICY.exists()
    if ownPolicy:
        POLICY.write_text("#!/bin/sh\n# Written by chatsvc's bench/packages.py for one install.\nexit 101\n")
        POLICY.chmod(0o755)
    environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *wanted]):
            done = subprocess.run(
                command, env=environment, stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=APT_TIMEOUT,
            )
            if done.returncode != 0:
                why = f"`{' '.join(command)}` failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
                return {p: why for p in missing(wanted)}
    except (OSError, subprocess.TimeoutExpired) as e:
        return {p: f"apt-get: {e}" for p in missing(wanted)}
    finally:
        if ownPolicy:
            POLICY.unlink(missing_ok=True)
    return {p: "apt-get install succeeded but the daemon is not there" for p in missing(wanted)}
