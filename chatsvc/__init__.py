"""
chatsvc: a small self-hosted chat server built on Twisted.

The domain (L{chatsvc.hub}) knows nothing of bytes; front-ends such as
L{chatsvc.native} translate a wire protocol into hub calls and hub events back
into bytes.
"""

__version__ = "0.1.0"
