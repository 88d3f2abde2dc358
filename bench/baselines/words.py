"""
C{twistd words}, Twisted's own chat server, as the IRC baseline.

Usage: python bench/baselines/words.py [twistd options] words [words options]

Exactly C{twistd} with two work-arounds, neither of which changes how the
server runs:

 - C{twisted.words.tap.Options.opt_group} calls C{bytes.decode} on a C{str}
   on Python 3, so C{--group} crashes (C{AttributeError}); here it keeps the
   name as given.  Groups must exist before anyone can C{JOIN} them (the
   realm does not create them on request).
 - Every user needs a password, and C{--auth memory:name:password:...} for
   20,000 users is longer than the 128 KiB Linux allows one argument, while
   C{--auth file:PATH} re-reads the whole file on every login (O(n) each).
   So C{--auth memory:@PATH} reads the same colon-separated list from PATH
   and hands it to the same in-memory checker.
"""

from __future__ import annotations

import sys

from twisted.words import tap


def opt_group(self: tap.Options, name: str) -> None:
    self["groups"].append(name)


opt_group.__doc__ = tap.Options.opt_group.__doc__
tap.Options.opt_group = opt_group  # type: ignore[method-assign]


def expandAuthFiles(arguments: list[str]) -> list[str]:
    """
    C{memory:@PATH} (in C{--auth=...} or after C{--auth}) becomes
    C{memory:<the contents of PATH>}.
    """
    expanded = []
    for argument in arguments:
        for prefix in ("memory:@", "--auth=memory:@"):
            if argument.startswith(prefix):
                with open(argument[len(prefix) :], encoding="utf-8") as f:
                    argument = prefix[:-1] + f.read().strip()
        expanded.append(argument)
    return expanded


if __name__ == "__main__":
    from twisted.scripts.twistd import run

    sys.argv[1:] = expandAuthFiles(sys.argv[1:])
    run()
