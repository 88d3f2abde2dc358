"""
The web front-end: a page anyone can open to chat, and IRC over WebSocket,
both as sessions of the other front-ends behind a message adapter
(docs/web.rst).
"""
