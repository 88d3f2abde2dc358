"""
Where what was said is kept: one interface (L{chatsvc.interfaces.IStore}),
one row format (L{chatsvc.store.rows}), and its implementations: in memory
(L{chatsvc.store.memory}), SQLite, the embedded default
(L{chatsvc.store.sqlite}), and PostgreSQL, for several nodes
(L{chatsvc.store.postgresql}).  One contract-test suite runs against each.
"""
