"""
chatsvc's tests; run them all with C{trial tests}.

Hypothesis runs derandomized (the same examples every run) whenever C{CI}
is set, so CI never fails on an example no one can reproduce; run without
C{CI} locally to let it explore.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
