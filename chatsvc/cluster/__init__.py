"""
Several nodes, one chat: what joins chatsvc processes over Redis
(C{twistd -n chat --cluster redis://...}).
"""
