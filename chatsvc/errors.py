"""
Errors the hub raises for a user's request.

They carry data, not text: each front-end words them in the user's language
(or as an IRC numeric), so the hub stays free of presentation.
"""

from __future__ import annotations


class ChatError(Exception):
    """
    A request that the hub refused; nothing changed.
    """


class InvalidName(ChatError):
    """
    A nickname or room name that breaks the rule in L{chatsvc.names}.

    @ivar problem: C{"empty"}, C{"long"}, C{"start"}, C{"character"} or
        C{"reserved"}.
    @ivar name: the name as given (NFC).
    @ivar character: the offending character, for C{"start"} and
        C{"character"}.
    """

    def __init__(self, problem: str, name: str, character: str = "") -> None:
        super().__init__(problem, name, character)
        self.problem = problem
        self.name = name
        self.character = character


class NicknameInUse(ChatError):
    """
    Somebody already holds this nickname (or one equal to it by key).
    """

    def __init__(self, nickname: str) -> None:
        super().__init__(nickname)
        self.nickname = nickname


class NoSuchNickname(ChatError):
    """
    Nobody by that nickname is connected.
    """

    def __init__(self, nickname: str) -> None:
        super().__init__(nickname)
        self.nickname = nickname


class AlreadyInRoom(ChatError):
    """
    The user asked to join the room they are in.
    """

    def __init__(self, room: str) -> None:
        super().__init__(room)
        self.room = room


class NotRegistered(ChatError):
    """
    The request needs a nickname and the connection has none yet.
    """


class AlreadyRegistered(ChatError):
    """
    The connection picked its nickname already (use a rename instead).
    """


class NoSuchRoom(ChatError):
    """
    No room by that name exists.
    """

    def __init__(self, room: str) -> None:
        super().__init__(room)
        self.room = room


class NotInRoom(ChatError):
    """
    The request needs membership of a room the member is not in.
    """

    def __init__(self, room: str) -> None:
        super().__init__(room)
        self.room = room


class TooManyConnections(ChatError):
    """
    The server is full, in total or for one address.

    @ivar scope: C{"total"} or C{"address"}.
    @ivar limit: the limit that was reached.
    """

    def __init__(self, scope: str, limit: int) -> None:
        super().__init__(scope, limit)
        self.scope = scope
        self.limit = limit


class TooManyRooms(ChatError):
    """
    Joining would pass a limit on rooms: those one member may be in, or
    those the server holds.

    @ivar scope: C{"member"} or C{"server"}.
    @ivar limit: the limit that was reached.
    @ivar room: the room asked for.
    """

    def __init__(self, scope: str, limit: int, room: str) -> None:
        super().__init__(scope, limit, room)
        self.scope = scope
        self.limit = limit
        self.room = room


class StoreError(Exception):
    """
    The history store cannot be used; C{reason} says why, in one line
    (the file is locked by another process, not a database, not writable,
    the disk is full).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
