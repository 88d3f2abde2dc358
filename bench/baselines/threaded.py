"""
The classic threaded chat server, re-implemented faithfully as a baseline.

Usage: python bench/baselines/threaded.py --port PORT [--host 127.0.0.1]

What chatsvc began as: one blocking socket per client, one thread per
client, a global list of clients and a lock around the broadcast, and blocking
sends inside it.  The accept loop does the handshake itself (it sends
C{NICK} and waits for the nickname before accepting anyone else), as the
original did.  The wire is the native protocol's core:

 - the server sends C{NICK}; the client's first line is its nickname;
 - everyone already there gets C{<nick> joined the chat!}, the newcomer gets
   C{Connected to server!};
 - every line a client sends goes to everyone, the sender included, as
   C{<nick>: <text>};
 - when a client goes, everyone left gets C{<nick> left the chat.}.

No nickname rules, no rooms, no commands, no limit on what waits for a slow
reader: one client that stops reading blocks the broadcast, and with it
everyone, which is what the slow-reader scenario shows.  Standard library
only; it runs until it is killed.
"""

from __future__ import annotations

import argparse
import socket
import threading

clients: list[socket.socket] = []
nicknames: list[str] = []
lock = threading.Lock()


def broadcast(message: bytes, exclude: socket.socket | None = None) -> None:
    """
    Send C{message} to every client (but C{exclude}), one blocking send each.
    """
    with lock:
        for client in clients:
            if client is exclude:
                continue
            try:
                client.sendall(message)
            except OSError:
                # Its own thread notices the broken connection and removes it.
                pass


def readLine(client: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
    """
    The next line from C{client} without its line ending, and what follows it;
    C{None} at the end of the input.
    """
    while b"\n" not in buffer:
        chunk = client.recv(1024)
        if not chunk:
            return None, buffer
        buffer += chunk
    line, buffer = buffer.split(b"\n", 1)
    return line.rstrip(b"\r"), buffer


def handle(client: socket.socket, nickname: str, buffer: bytes) -> None:
    """
    Broadcast every line of one client until it goes, then say so.
    """
    prefix = nickname.encode("utf-8") + b": "
    try:
        while True:
            line, buffer = readLine(client, buffer)
            if line is None:
                break
            if line.strip():
                broadcast(prefix + line + b"\n")
    except OSError:
        pass
    with lock:
        if client in clients:
            index = clients.index(client)
            del clients[index]
            del nicknames[index]
    client.close()
    broadcast(f"{nickname} left the chat.\n".encode("utf-8"))


def receive(server: socket.socket) -> None:
    """
    Accept clients one at a time; ask each its nickname and start its thread.
    """
    while True:
        client, _ = server.accept()
        try:
            client.sendall(b"NICK\n")
            line, rest = readLine(client, b"")
        except OSError:
            client.close()
            continue
        if line is None:
            client.close()
            continue
        nickname = line.decode("utf-8", "replace").strip()
        broadcast(f"{nickname} joined the chat!\n".encode("utf-8"))
        with lock:
            clients.append(client)
            nicknames.append(nickname)
        try:
            client.sendall(b"Connected to server!\n")
        except OSError:
            pass
        threading.Thread(target=handle, args=(client, nickname, rest), daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((arguments.host, arguments.port))
    server.listen()
    print(f"listening on {arguments.host}:{arguments.port}", flush=True)
    receive(server)


if __name__ == "__main__":
    main()
