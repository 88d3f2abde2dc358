"""
Hub events as compact JSON, for carrying them between nodes.

One node's hub publishes an event; every other node must rebuild the very
same value, C{id} and C{time} included, to hand its own participants.  An
event becomes a JSON object naming its class under C{"kind"}, with one
member per field; a field still at its default is left out, so a plain
line costs little more than its text.  An L{Identity} or a L{ModeChange}
becomes a list of its fields in order, trailing defaults left out
(C{["alice"]} is C{Identity("alice")}).

The codec is derived from the classes' attrs fields and type hints when
this module is imported, so a new kind of event (or a new field) needs no
change here, and a field of a type it cannot carry fails the import rather
than a message.  Only the classes of L{chatsvc.events.Event} are ever
built: a name read from the wire is looked up in that table, never
resolved.  Whatever a peer sends, decoding it either returns an event or
raises L{WireError}; so does a member this codec would not have written,
an unknown field included, since the nodes of one cluster run one version.
(A time of C{-0.0}, equal to the default, comes back as C{0.0}.)
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Callable
from operator import attrgetter
from typing import Any, NamedTuple

import attrs

from chatsvc.events import Event

_Encoder = Callable[[Any], object]
_Decoder = Callable[[object], Any]

# The member naming an event's class; no event may have a field so called.
KIND = "kind"

# Marks a field that has no default: always sent, and needed to decode.
_REQUIRED: Any = object()
# What a decoded object holds for a member it lacks.
_ABSENT: Any = object()


class WireError(ValueError):
    """
    What came over the wire is not an event: not UTF-8, not JSON, not an
    object, or not one that this codec would have written.
    """


class _Codec(NamedTuple):
    """
    How to carry values of one type.

    @ivar plain: a value of exactly this type goes over as it is both ways,
        with no call to C{encode} or C{decode} (a decoded event's strings
        are most of what it holds); L{None} if there is no such type.
    @ivar encode: makes a value JSON-able; L{None} if it already is.
    @ivar decode: checks and converts what JSON gave back for a value, or
        raises L{WireError}.
    """

    plain: type | None
    encode: _Encoder | None
    decode: _Decoder


class _Field(NamedTuple):
    name: str
    plain: type | None
    encode: _Encoder | None
    decode: _Decoder
    # What lets the field be left out, or _REQUIRED.
    default: object


def _refuse(kind: str) -> _Decoder:
    """
    A decoder for what the fast path of a C{plain} type did not take.
    """

    def decode(raw: object) -> object:
        raise WireError(f"expected {kind}, got {type(raw).__name__}")

    return decode


def _decodeFloat(raw: object) -> float:
    """
    A finite number, as a float: JSON writers may give C{1.0} as C{1}.
    """
    if type(raw) is float or type(raw) is int:
        try:
            number = float(raw)
        except OverflowError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise WireError(f"expected a finite number, got {type(raw).__name__}")


def _optional(inner: _Codec) -> _Codec:
    plain, encode, decode = inner

    def encodeOptional(value: object) -> object:
        return None if value is None else encode(value)  # type: ignore[misc]

    def decodeOptional(raw: object) -> object:
        if raw is None:
            return None
        return raw if type(raw) is plain else decode(raw)

    return _Codec(plain, None if encode is None else encodeOptional, decodeOptional)


def _sequence(inner: _Codec) -> _Codec:
    plain, encode, decode = inner

    def encodeSequence(value: tuple[object, ...]) -> list[object]:
        if encode is None:
            return list(value)
        return [encode(item) for item in value]

    def decodeSequence(raw: object) -> tuple[object, ...]:
        if type(raw) is not list:
            raise WireError(f"expected a list, got {type(raw).__name__}")
        return tuple([item if type(item) is plain else decode(item) for item in raw])

    return _Codec(None, encodeSequence, decodeSequence)


def _fieldsOf(cls: type) -> tuple[_Field, ...]:
    """
    Each field of the attrs class C{cls}, in order.
    """
    hints = typing.get_type_hints(cls)
    found = []
    for each in attrs.fields(cls):
        default = each.default
        if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = _REQUIRED
        found.append(_Field(each.name, *_codecFor(hints[each.name]), default))
    return tuple(found)


def _record(cls: type) -> _Codec:
    """
    The list form of a value nested in an event (an L{Identity}, a
    L{ModeChange}): its fields by position, trailing defaults left out.
    """
    fields = _fieldsOf(cls)
    names = [each.name for each in fields]
    encoders = [each.encode for each in fields]
    decoders = [(each.plain, each.decode) for each in fields]
    defaults = [each.default for each in fields]
    required = defaults.count(_REQUIRED)
    if _REQUIRED in defaults[required:]:
        raise TypeError(f"{cls.__name__} has a required field after a default")
    size = len(fields)
    get = attrgetter(*names) if size > 1 else (lambda value: (getattr(value, names[0]),))
    plain = all(encode is None for encode in encoders)
    name = cls.__name__

    def encodeRecord(value: object) -> list[object]:
        values = get(value)
        end = size
        while end > required and values[end - 1] == defaults[end - 1]:
            end -= 1
        if plain:
            return list(values[:end])
        return [
            item if encode is None else encode(item)
            for item, encode in zip(values[:end], encoders)
        ]

    def decodeRecord(raw: object) -> object:
        if type(raw) is not list:
            raise WireError(f"expected a list for {name}, got {type(raw).__name__}")
        if not required <= len(raw) <= size:
            raise WireError(f"expected {required} to {size} items for {name}, got {len(raw)}")
        return cls(
            *[
                item if type(item) is itemPlain else decode(item)
                for (itemPlain, decode), item in zip(decoders, raw)
            ]
        )

    return _Codec(None, encodeRecord, decodeRecord)


def _codecFor(hint: object) -> _Codec:
    """
    How to carry a value of the type C{hint}; a type not provided for is a
    L{TypeError}, raised when this module is imported.
    """
    # Exactly: JSON's true is no integer, and 1 is no boolean.
    if hint is str or hint is bool or hint is int:
        return _Codec(hint, None, _refuse(hint.__name__))  # type: ignore[attr-defined]
    if hint is float:
        return _Codec(None, None, _decodeFloat)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        (inner,) = [each for each in args if each is not type(None)]
        return _optional(_codecFor(inner))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _sequence(_codecFor(args[0]))
    if isinstance(hint, type) and attrs.has(hint):
        return _record(hint)
    raise TypeError(f"no wire form for {hint!r}")


@attrs.frozen
class _Kind:
    """
    How to carry one kind of event.
    """

    name: str
    eventClass: type
    fields: tuple[_Field, ...]
    get: Callable[[object], tuple[object, ...]]

    @classmethod
    def of(cls, eventClass: type) -> _Kind:
        fields = _fieldsOf(eventClass)
        names = [each.name for each in fields]
        if KIND in names:
            raise TypeError(f"{eventClass.__name__} has a field named {KIND!r}")
        return cls(eventClass.__name__, eventClass, fields, attrgetter(*names))

    def encode(self, event: object) -> dict[str, object]:
        encoded: dict[str, object] = {KIND: self.name}
        for (name, _, encode, _, default), value in zip(self.fields, self.get(event)):
            if value == default:
                continue
            encoded[name] = value if encode is None else encode(value)
        return encoded

    def decode(self, obj: dict[Any, object]) -> Any:
        arguments = {}
        for name, plain, _, decode, default in self.fields:
            raw = obj.get(name, _ABSENT)
            if type(raw) is plain:
                arguments[name] = raw
            elif raw is not _ABSENT:
                try:
                    arguments[name] = decode(raw)
                except WireError as e:
                    raise WireError(f"{self.name}.{name}: {e}") from None
            elif default is _REQUIRED:
                raise WireError(f"{self.name} without {name}")
        if len(arguments) + 1 != len(obj):
            known = {KIND, *arguments}
            strangers = [key for key in obj if key not in known]
            raise WireError(f"{self.name} with unknown fields {strangers!r:.80}")
        return self.eventClass(**arguments)


_KINDS = {kind.name: kind for kind in map(_Kind.of, typing.get_args(Event))}
_BY_CLASS = {kind.eventClass: kind for kind in _KINDS.values()}


def encodeEvent(event: Event) -> dict[str, object]:
    """
    C{event} as a JSON-able object, for L{dumps}; L{decodeEvent} builds an
    equal event back, with the same C{id} and C{time}.

    @raise TypeError: C{event} is not one of L{chatsvc.events.Event}.
    """
    try:
        kind = _BY_CLASS[type(event)]
    except KeyError:
        raise TypeError(f"not an event: {type(event).__name__}") from None
    return kind.encode(event)


def decodeEvent(obj: object) -> Event:
    """
    The event that L{encodeEvent} made C{obj} from.

    @raise WireError: C{obj} is not one that L{encodeEvent} makes: an
        unknown kind, a field missing, unknown or of the wrong type.
    """
    if not isinstance(obj, dict):
        raise WireError(f"expected an object, got {type(obj).__name__}")
    name = obj.get(KIND)
    if type(name) is not str:
        raise WireError(f"expected a kind name, got {type(name).__name__}")
    kind = _KINDS.get(name)
    if kind is None:
        raise WireError(f"unknown kind {name!r:.60}")
    try:
        return kind.decode(obj)  # type: ignore[no-any-return]
    except WireError:
        raise
    except (TypeError, ValueError) as e:
        # Only the validation of a class being built could get here.
        raise WireError(f"{name}: {e}") from None


def _refuseConstant(name: str) -> object:
    raise WireError(f"{name} is not JSON")


# json.dumps and json.loads build an encoder or decoder per call given
# options; one of each will do.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_DECODER = json.JSONDecoder(parse_constant=_refuseConstant)


def dumps(obj: object) -> bytes:
    """
    C{obj} as compact JSON in UTF-8, text as it is rather than C{\\u}
    escaped, except a lone surrogate (which UTF-8 cannot carry).

    @raise ValueError: C{obj} holds a number that is not finite.
    """
    text = _ENCODER.encode(obj)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _ASCII_ENCODER.encode(obj).encode("ascii")


def loads(data: bytes) -> dict[str, object]:
    """
    The JSON object in C{data}, for L{decodeEvent}.

    @raise WireError: C{data} is not bytes, not UTF-8, not JSON (C{NaN} and
        C{Infinity} included) or not an object.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise WireError(f"expected bytes, got {type(data).__name__}")
    try:
        obj = _DECODER.decode(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        # UnicodeDecodeError and JSONDecodeError are both ValueErrors; so
        # is a number too long to convert.
        raise WireError(f"not JSON in UTF-8: {e}") from None
    if type(obj) is not dict:
        raise WireError(f"expected an object, got {type(obj).__name__}")
    return obj
