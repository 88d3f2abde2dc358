"""
Several nodes, one chat: what joins chatsvc processes over Redis.
"""
