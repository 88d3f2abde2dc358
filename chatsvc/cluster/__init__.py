"""
The package joins several nodes (C{twistd -n chat --cluster redis://...})
into one chat over Redis: its wire protocol (L{chatsvc.cluster.resp}) and
the bus built on it (L{chatsvc.cluster.bus}).
"""
