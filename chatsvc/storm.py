"""
Logging that keeps up with a storm of arrivals or departures.

A log line costs about as much as the rest of a registration (twistd's
observer formats a timestamp and the text, then writes and flushes), so when
thousands of clients reconnect at once after a restart, logging each one
would halve how fast they are let back in.  Like a crowded room, the log
then hears a summary a second instead: nothing is left out, it is only
grouped.
"""

from __future__ import annotations

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

# How many events a second are logged one line each before the rest of the
# second's are grouped into one line.
DEFAULT_BURST = 20


class StormLog:
    """
    Logs one kind of event (people registering, people leaving) one line
    each, up to C{burst} a second; the rest of that second's go into one
    line at its end, naming every one.

    @param single: a format with C{{who}}, for one event.
    @param summary: a format with C{{count}} and C{{who}} (the descriptions,
        comma-separated), for the rest of a busy second.
    """

    def __init__(
        self,
        log: Logger,
        clock: IReactorTime,
        single: str,
        summary: str,
        burst: int = DEFAULT_BURST,
        interval: float = 1.0,
    ) -> None:
        self._log = log
        self._clock = clock
        self._single = single
        self._summary = summary
        self._burst = burst
        self._interval = interval
        self._windowStart = float("-inf")
        self._logged = 0
        self._held: list[str] = []
        self._call: IDelayedCall | None = None

    def __call__(self, who: str) -> None:
        now = self._clock.seconds()
        if now - self._windowStart >= self._interval and self._call is None:
            self._windowStart = now
            self._logged = 0
        if self._logged < self._burst:
            self._logged += 1
            self._log.info(self._single, who=who)
            return
        self._held.append(who)
        if self._call is None:
            self._call = self._clock.callLater(
                self._windowStart + self._interval - now, self.flush
            )

    def flush(self) -> None:
        """
        Log what is held now (at the end of a busy second, or at shutdown).
        """
        if self._call is not None:
            if self._call.active():
                self._call.cancel()
            self._call = None
        held, self._held = self._held, []
        if held:
            self._log.info(self._summary, count=len(held), who=", ".join(held))
