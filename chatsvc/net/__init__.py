"""
Connections: framing, flood control, output, keepalive, and the one
connection lifecycle that every front-end's sessions share.

C{framing} and C{flood} are pure; C{output} and C{keepalive} are the
Twisted-facing fast path; C{connection} owns admission, limits, closing,
send-queue overflow, flood cut-off and the server password; C{tcp} is the
thin adapter that frames a byte stream into lines for it; C{reuseport}
listens on a port that several processes share.
"""
