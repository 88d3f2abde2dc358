"""
Where what was said is kept: one interface (L{chatsvc.interfaces.IStore}),
one row format (L{chatsvc.store.rows}), and its implementations: in memory
(L{chatsvc.store.memory}) and SQLite, the embedded default
(L{chatsvc.store.sqlite}).  One contract-test suite runs against each.
"""
