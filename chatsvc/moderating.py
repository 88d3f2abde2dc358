"""
The hub's verbs for who may do what: roles, modes, bans, kicks and
invitations in rooms, registered rooms, accounts and server operators.

A part of L{chatsvc.hub.Hub} (which mixes it in), kept apart so that each
reads in one sitting: these verbs use the hub's records, its one delivery
path and its clock, and ask L{chatsvc.moderation} -- the one permission
check -- before they change anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatsvc import events
from chatsvc.errors import (
    AlreadyThere,
    CannotJoin,
    ChatError,
    ListFull,
    NotInRoom,
    NotInThatRoom,
    NotLoggedIn,
    NotPermitted,
    RoomRegistered,
)
from chatsvc.masks import matches, normalizeMask
from chatsvc.moderation import (
    KEY_MODES,
    LIMIT_MODES,
    LIST_MODES,
    MAX_BANS,
    ROLE_MODES,
    Action,
    ModeChange,
    Modes,
    Role,
    applySetting,
    can,
    joinRefusal,
)
from chatsvc.names import nameKey
from chatsvc.records import Ban, Member, Room

if TYPE_CHECKING:
    pass

# Invitations a room remembers until they are used (the oldest go first).
MAX_INVITATIONS = 100


class Moderating:
    """
    The verbs of L{chatsvc.hub.Hub} that give, take and check roles (its
    log, records and delivery path are the hub's).
    """

    def setModes(
        self, member: Member, roomName: str, changes: list[ModeChange]
    ) -> tuple[list[ModeChange], list[ChatError]]:
        """
        Make C{changes} to a room's modes, roles and bans, in order, and
        tell its members of those made.

        A change that would change nothing (giving a role held, setting a
        mode set) is left out; one naming someone who is not there is
        refused alone, and the others are made.

        @return: the changes made (a role's argument as its member's
            nickname, a ban's as the full mask) and the refusals.
        @raise NotPermitted: C{member} is no operator of the room.
        """
        room = self._controlledRoom(member, roomName, Action.MODE)
        made: list[ModeChange] = []
        refused: list[ChatError] = []
        for change in changes:
            try:
                done = self._change(member.identity, room, change)
            except ChatError as error:
                refused.append(error)
            else:
                if done is not None:
                    made.append(done)
        if made:
            self._publish(
                events.ModeChanged(member.identity, room.name, tuple(made), **self.stamp()),
                rooms=(room,),
            )
            self._changed(room)
        return made, refused

    def kick(
        self, member: Member, roomName: str, nickname: str, reason: str | None = None
    ) -> None:
        """
        Put C{nickname} out of a room; its members, the one kicked included,
        hear of it.

        @raise NotPermitted: C{member} is no operator of the room.
        @raise NoSuchNickname: nobody by that name is here.
        @raise NotInThatRoom: they are not in the room.
        """
        room = self._controlledRoom(member, roomName, Action.KICK)
        target = self.find(nickname)
        if target not in room.members:
            raise NotInThatRoom(target.nickname, room.name)
        self._publish(
            events.Kicked(member.identity, room.name, target.nickname, reason, **self.stamp()),
            rooms=(room,),
        )
        self._leave(target, room)

    def invite(self, member: Member, roomName: str, nickname: str) -> Member:
        """
        Let C{nickname} into a room past its modes, once, and tell them (and
        the room's operators).

        @return: the guest, whose away message the inviter may want.
        @raise NotPermitted: the room is invite-only and C{member} is no
            operator.
        @raise NoSuchNickname: nobody by that name is here.
        @raise AlreadyThere: they are in the room.
        """
        room = self._controlledRoom(member, roomName, Action.INVITE)
        target = self.find(nickname)
        if target in room.members:
            raise AlreadyThere(target.nickname, room.name)
        room.invited.pop(nameKey(target.nickname), None)
        room.invited[nameKey(target.nickname)] = None
        if len(room.invited) > MAX_INVITATIONS:
            del room.invited[next(iter(room.invited))]
        self._publish(
            events.Invited(member.identity, room.name, target.nickname, **self.stamp()),
            members=(target,),
        )
        told = tuple(op for op in room.operators if op is not member)
        if told:
            self._publish(
                events.InviteNotice(
                    member.identity, room.name, target.nickname, **self.stamp()
                ),
                members=told,
            )
        return target

    def registerRoom(self, member: Member, roomName: str) -> Room:
        """
        Make C{member}'s account the owner of a room it operates: the room
        stays, with its modes, bans and roles, when it empties and across
        restarts, and the owner is its operator whenever it comes in.

        @raise NotLoggedIn: C{member} has no account.
        @raise NotPermitted: C{member} is no operator of the room.
        @raise RoomRegistered: the room has an owner.
        """
        room = self._roomOf(member, roomName)
        if member.account is None:
            raise NotLoggedIn()
        if room.owner is not None:
            raise RoomRegistered(room.name, room.owner)
        self._require(member, room, Action.REGISTER)
        room.owner = member.account
        room.access = {nameKey(member.account): Role.OPERATOR}
        for other in room.members:
            self._keepRole(room, other)
        self.log.info("{who} registered #{room}", who=member.account, room=room.name)
        self._changed(room)
        return room

    def logIn(self, member: Member, account: str) -> None:
        """
        Record that C{member} proved it holds C{account}, and tell everyone
        who shares a room with it; a connection may log in before it has a
        nickname (SASL, or to take its registered one).
        """
        self._setAccount(member, account)

    def logOut(self, member: Member) -> None:
        """
        Forget C{member}'s account (it dropped it).
        """
        self._setAccount(member, None)

    def accountDropped(self, account: str) -> None:
        """
        C{account} is gone: log out whoever holds it, and let go of the
        rooms it owned.
        """
        key = nameKey(account)
        for member in list(self.members):
            if member.account is not None and nameKey(member.account) == key:
                self.logOut(member)
        for room in list(self._rooms.values()):
            if room.owner is not None and nameKey(room.owner) == key:
                room.owner = None
                room.access.clear()
                self.roomChanged(room)
                if not room.members and nameKey(room.name) != nameKey(self.defaultRoom):
                    del self._rooms[nameKey(room.name)]

    def becomeOperator(self, member: Member, name: str) -> None:
        """
        Record that C{member} proved it is the server operator C{name}.
        """
        self._registered(member)
        if member.operator is None:
            self.operatorCount += 1
        member.operator = name
        self.log.info("{who} is server operator {name}", who=member.nickname, name=name)

    def kill(self, member: Member, nickname: str, reason: str) -> None:
        """
        Put C{nickname} off the server (a server operator's KILL).

        @raise NotPermitted: C{member} is no server operator.
        """
        self._requireOperator(member, "kill")
        target = self.find(nickname)
        self.log.info(
            "{oper} killed {who}: {reason}", oper=member.nickname, who=target.nickname,
            reason=reason,
        )
        self.delivery.direct(target, events.Killed(member.identity, reason, **self.stamp()))
        self.disconnect(target, f"Killed ({member.nickname} ({reason}))")

    def wallops(self, member: Member, text: str) -> None:
        """
        Tell everyone connected C{text} from a server operator.

        @raise NotPermitted: C{member} is no server operator.
        """
        self._requireOperator(member, "wallops")
        self._publish(
            events.Wallops(member.identity, text, **self.stamp()),
            members=tuple(self._byNickname.values()),
            actor=member,
        )

    def restoreRoom(
        self,
        name: str,
        owner: str,
        modes: Modes,
        bans: list[Ban],
        access: dict[str, Role],
        created: float,
    ) -> None:
        """
        Bring back a registered room as it was kept (at start-up, from the
        store).
        """
        key = nameKey(name)
        room = self._rooms.get(key)
        if room is None:
            room = self._rooms[key] = Room(name, topic=self._topics.get(key, ""))
        room.owner, room.modes, room.created = owner, modes, created
        room.bans = {ban.mask.casefold(): ban for ban in bans}
        room.access = dict(access)

    def _controlledRoom(self, member: Member, roomName: str, action: Action) -> Room:
        """
        The room called C{roomName}, if C{member} may do C{action} there.
        """
        self._registered(member)
        room = self.room(roomName)
        if member not in room.members and member.operator is None:
            raise NotInRoom(room.name)
        self._require(member, room, action)
        return room

    def _require(self, member: Member, room: Room, action: Action) -> None:
        if not can(action, room.role(member), room.modes, member.operator is not None):
            raise NotPermitted(action.value, room.name)

    def _requireOperator(self, member: Member, action: str) -> None:
        self._registered(member)
        if member.operator is None:
            raise NotPermitted(action)

    def _banned(self, room: Room, identity: events.Identity) -> bool:
        return any(matches(mask, identity) for mask in room.bans)

    def _checkEntry(
        self,
        member: Member,
        room: Room,
        identity: events.Identity,
        key: str | None = None,
    ) -> None:
        """
        Raise L{CannotJoin} if C{room}'s modes keep C{member} (as
        C{identity}) out.  An empty room that nobody registered is new to
        whoever comes, whatever it was before.
        """
        if not room.members and room.owner is None:
            return
        holder = (
            room.access.get(nameKey(member.account)) if member.account is not None else None
        )
        reason = joinRefusal(
            room.modes,
            banned=bool(room.bans) and self._banned(room, identity),
            invited=nameKey(identity.nickname) in room.invited or holder is not None,
            key=key,
            size=len(room.members),
            serverOperator=member.operator is not None,
        )
        if reason is not None:
            raise CannotJoin(room.name, reason)

    def _change(
        self, setter: events.Identity, room: Room, change: ModeChange
    ) -> ModeChange | None:
        """
        Make one mode change in C{room} for C{setter}, who may make it; the
        change as made, or C{None} if it changes nothing.
        """
        letter, argument = change.letter, change.argument
        if letter in ROLE_MODES:
            target = self.find(argument or "")
            if target not in room.members:
                raise NotInThatRoom(target.nickname, room.name)
            holders = room.operators if letter == "o" else room.voiced
            if (target in holders) == change.adding:
                return None
            if change.adding:
                holders.add(target)
            else:
                holders.discard(target)
            if room.owner is not None and target.account is not None:
                self._keepAccess(room, target)
            return ModeChange(change.adding, letter, target.nickname)
        if letter in LIST_MODES:
            mask = normalizeMask(argument or "")
            if mask is None:
                return None
            # Masks compare without regard to case, as they match.
            key = mask.casefold()
            if not change.adding:
                ban = room.bans.pop(key, None)
                return None if ban is None else ModeChange(False, letter, ban.mask)
            if key in room.bans:
                return None
            if len(room.bans) >= MAX_BANS:
                raise ListFull(room.name, MAX_BANS)
            room.bans[key] = Ban(mask, setter.mask, self._clock.seconds())
            return ModeChange(True, letter, mask)
        modes = applySetting(room.modes, change)
        if modes is None:
            return None
        room.modes = modes
        if letter in KEY_MODES + LIMIT_MODES and change.adding:
            value = modes.key if letter in KEY_MODES else str(modes.limit)
            return ModeChange(True, letter, value)
        return ModeChange(change.adding, letter)

    def _keepAccess(self, room: Room, member: Member) -> None:
        """
        In a registered room, remember the role C{member}'s account now has
        (the owner's stays operator).
        """
        key = nameKey(member.account)
        if room.owner is not None and key == nameKey(room.owner):
            return
        role = room.role(member)
        if role is Role.MEMBER:
            room.access.pop(key, None)
        else:
            room.access[key] = role

    def _keepRole(self, room: Room, member: Member) -> None:
        """
        Give C{member} the role a registered C{room} keeps for its account.
        """
        if member.account is None:
            return
        role = room.access.get(nameKey(member.account))
        if role is Role.OPERATOR:
            room.operators.add(member)
        elif role is Role.VOICE:
            room.voiced.add(member)

    def _setAccount(self, member: Member, account: str | None) -> None:
        if member.nickname is None:
            # Logged in before choosing a nickname (SASL, a registered
            # nickname's password): nobody to tell yet.
            member.account = account
            return
        if account == member.account:
            return
        before = member.identity
        member.account = account
        self._name(member, member.nickname)
        self._publish(
            events.AccountChanged(before, account, **self.stamp()),
            rooms=member.rooms,
            actor=member,
        )

    def _changed(self, room: Room) -> None:
        if room.owner is not None:
            self.roomChanged(room)
