"""
Tests for L{chatsvc.registered}: registered rooms kept across restarts.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import fail
from twisted.internet.task import Clock
from twisted.logger import Logger
from twisted.trial.unittest import SynchronousTestCase

from chatsvc.errors import StoreError
from chatsvc.hub import Hub
from chatsvc.moderation import ModeChange, Modes, Role
from chatsvc.records import Ban, Room
from chatsvc.registered import RoomKeeper, decodeRoom, encodeRoom
from chatsvc.store.memory import MemoryStore
from chatsvc.testing import RecordingParticipant

texts = st.text(max_size=30)
modes = st.builds(
    Modes,
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.one_of(st.none(), texts),
    st.one_of(st.none(), st.integers(1, 1_000_000)),
)
rooms = st.builds(
    Room,
    st.just("kuchnia"),
    owner=texts,
    modes=modes,
    created=st.floats(0, 2e9),
    bans=st.lists(st.builds(Ban, texts, texts, st.floats(0, 2e9))).map(
        lambda bans: {ban.mask: ban for ban in bans}
    ),
    access=st.dictionaries(texts, st.sampled_from([Role.OPERATOR, Role.VOICE])),
)


class CodecTests(SynchronousTestCase):
    @given(rooms)
    def test_roundTrip(self, room: Room) -> None:
        """
        What is encoded comes back as it was.
        """
        state = decodeRoom(encodeRoom(room))
        self.assertEqual(
            (state["owner"], state["modes"], state["created"], state["access"]),
            (room.owner, room.modes, room.created, room.access),
        )
        self.assertEqual(state["bans"], list(room.bans.values()))

    def test_notARoom(self) -> None:
        """
        Text this code did not write is refused with ValueError.
        """
        for text in ["{}", "[]", '{"owner": "x"}']:
            self.assertRaises(ValueError, decodeRoom, text)


class KeeperTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.store = MemoryStore()
        self.hub, self.keeper = self.start()

    def start(self) -> tuple[Hub, RoomKeeper]:
        hub = Hub(Clock())
        keeper = RoomKeeper(hub, self.store)
        self.successResultOf(keeper.load())
        return hub, keeper

    def member(self, hub: Hub, nickname: str, account: str | None = None):
        member = hub.connect(RecordingParticipant(), host="192.0.2.1")
        hub.register(member, nickname, enter=False)
        if account is not None:
            hub.logIn(member, account)
        return member

    def test_survivesRestart(self) -> None:
        """
        A registered room's owner, modes, bans and roles are there after a
        restart, and its owner is its operator again.
        """
        ala = self.member(self.hub, "Ala", "Ala")
        ola = self.member(self.hub, "Ola", "Ola")
        self.hub.enter(ala, "kuchnia")
        self.hub.enter(ola, "kuchnia")
        self.hub.registerRoom(ala, "kuchnia")
        self.hub.setModes(
            ala,
            "kuchnia",
            [ModeChange(True, "m"), ModeChange(True, "v", "Ola"), ModeChange(True, "b", "troll")],
        )
        hub, _ = self.start()
        room = hub.room("kuchnia")
        self.assertEqual(room.owner, "Ala")
        self.assertTrue(room.modes.moderated)
        self.assertEqual(list(room.bans), ["troll!*@*"])
        self.assertEqual(room.access, {"ala": Role.OPERATOR, "ola": Role.VOICE})
        ala = self.member(hub, "Ala", "Ala")
        hub.enter(ala, "kuchnia")
        self.assertEqual(room.role(ala), Role.OPERATOR)

    def test_unregisteredForgotten(self) -> None:
        """
        A room whose owner's account is dropped is forgotten by the store.
        """
        ala = self.member(self.hub, "Ala", "Ala")
        self.hub.enter(ala, "kuchnia")
        self.hub.registerRoom(ala, "kuchnia")
        self.hub.accountDropped("Ala")
        self.assertEqual(self.successResultOf(self.store.roomStates()), {})

    def test_failedWriteLogged(self) -> None:
        """
        A write the store refuses is logged, and the next change saves the
        room whole.
        """
        ala = self.member(self.hub, "Ala", "Ala")
        self.hub.enter(ala, "kuchnia")
        logged: list[dict] = []
        self.keeper.log = Logger(observer=logged.append)
        save = self.store.saveRoomState
        self.store.saveRoomState = lambda *a: fail(StoreError("disk full"))
        self.hub.registerRoom(ala, "kuchnia")
        self.assertEqual(
            [(event["room"], event["reason"]) for event in logged], [("kuchnia", "disk full")]
        )
        self.store.saveRoomState = save
        self.hub.setModes(ala, "kuchnia", [ModeChange(True, "s")])
        hub, _ = self.start()
        self.assertTrue(hub.room("kuchnia").modes.secret)
