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


class NicknameReserved(ChatError):
    """
    The nickname belongs to an account the connection has not logged in to.
    """

    def __init__(self, nickname: str) -> None:
        super().__init__(nickname)
        self.nickname = nickname


class NotPermitted(ChatError):
    """
    The member lacks the role the request needs.

    @ivar action: what was refused (C{"topic"}, C{"mode"}, C{"kick"},
        C{"invite"}, C{"register"}, C{"kill"}, C{"wallops"}).
    @ivar room: the room it was refused in, or C{None} for what only a
        server operator may do.
    """

    def __init__(self, action: str, room: str | None = None) -> None:
        super().__init__(action, room)
        self.action = action
        self.room = room


class CannotJoin(ChatError):
    """
    The room's modes keep the member out.

    @ivar reason: C{"banned"}, C{"invite-only"}, C{"key"} or C{"full"}.
    """

    def __init__(self, room: str, reason: str) -> None:
        super().__init__(room, reason)
        self.room = room
        self.reason = reason


class CannotSpeak(ChatError):
    """
    The room's modes keep the member quiet there.

    @ivar reason: C{"moderated"}, C{"banned"} or C{"outside"} (C{+n}: the
        member is not in the room).
    """

    def __init__(self, room: str, reason: str) -> None:
        super().__init__(room, reason)
        self.room = room
        self.reason = reason


class NotInThatRoom(ChatError):
    """
    The member a request names (to kick, to give a role) is not in the room.
    """

    def __init__(self, nickname: str, room: str) -> None:
        super().__init__(nickname, room)
        self.nickname = nickname
        self.room = room


class AlreadyThere(ChatError):
    """
    The member invited is in the room already.
    """

    def __init__(self, nickname: str, room: str) -> None:
        super().__init__(nickname, room)
        self.nickname = nickname
        self.room = room


class ListFull(ChatError):
    """
    The room's list of bans (or invitations) holds as many as it may.
    """

    def __init__(self, room: str, limit: int) -> None:
        super().__init__(room, limit)
        self.room = room
        self.limit = limit


class AccountExists(ChatError):
    """
    Somebody registered this name already.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class LoginFailed(ChatError):
    """
    The name and password do not match an account (or an operator): one
    error for both, so that a guess tells nothing.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class TooManyAttempts(ChatError):
    """
    Too many login attempts for this account or from this address.

    @ivar retryAfter: seconds until the next attempt may be made.
    """

    def __init__(self, retryAfter: float) -> None:
        super().__init__(retryAfter)
        self.retryAfter = retryAfter


class WeakPassword(ChatError):
    """
    A new password too short (fewer than C{minimum} characters) or too long.
    """

    def __init__(self, minimum: int, maximum: int) -> None:
        super().__init__(minimum, maximum)
        self.minimum = minimum
        self.maximum = maximum


class TooManyAccounts(ChatError):
    """
    The server holds as many accounts as it may; nobody else can register.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class NotLoggedIn(ChatError):
    """
    The request needs an account the connection has logged in to.
    """


class RoomRegistered(ChatError):
    """
    The room is registered already, to C{owner}.
    """

    def __init__(self, room: str, owner: str) -> None:
        super().__init__(room, owner)
        self.room = room
        self.owner = owner


class StoreError(Exception):
    """
    The history store cannot be used; C{reason} says why, in one line
    (the file is locked by another process, not a database, not writable,
    the disk is full).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BusError(Exception):
    """
    Redis cannot be reached or refused a command: the cluster's bus did
    not do what was asked.  Not a L{ChatError}, since no user's request was
    refused; C{message} says what happened, in one line, for the log.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
