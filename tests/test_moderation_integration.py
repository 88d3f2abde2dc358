"""
Accounts and moderation as a class uses them, on the real C{twistd -n chat}
over TCP: a teacher registers her nickname and her room, a student gets a
voice in the moderated room, an IRC troublemaker is kicked and banned, a
server operator kills and sends WALLOPS; then the server restarts and all
of it is still there.
"""

from pathlib import Path

from argon2 import PasswordHasher
from twisted.trial.unittest import TestCase

from tests.harness import LineClient, ServerProcess

SERVER = "chatsvc"


class ClassroomTests(TestCase):
    def start(self, workdir: Path) -> ServerProcess:
        server = ServerProcess("--opers", str(workdir / "opers"), irc=True)
        server.start(str(workdir))
        self.addCleanup(server.stop)
        return server

    def native(self, server: ServerProcess, nickname: str) -> LineClient:
        client = LineClient(server.port)
        self.addCleanup(client.close)
        client.register(nickname)
        return client

    def irc(self, server: ServerProcess, nickname: str) -> LineClient:
        client = LineClient(server.ircPort)
        self.addCleanup(client.close)
        client.sendLine(f"NICK {nickname}")
        client.sendLine(f"USER {nickname.lower()} 0 * :{nickname}")
        client.readUntil(f":{SERVER} 376 {nickname} :End of /MOTD command.")
        return client

    def test_classroomSurvivesRestart(self) -> None:
        """
        Everything a teacher set up (her account, her room's ownership, its
        modes, a ban, a student's voice) is there after a restart, and her
        nickname is hers alone.
        """
        workdir = Path(self.mktemp()).resolve()
        workdir.mkdir(parents=True)
        # A cheap hash: the server takes its parameters from the hash itself.
        oper = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("szefpass")
        (workdir / "opers").write_text(f"# the school's admin\nszef {oper}\n")
        server = self.start(workdir)

        pani = self.native(server, "Pani")
        pani.sendLine("/register sekret123")
        pani.expect("The account Pani is registered.")
        pani.expect("You are now logged in to the account Pani.")
        pani.sendLine("/join klasa")
        pani.expect("You are now in room klasa (1 member).")
        pani.sendLine("/registerroom")
        pani.expect("Room klasa is now registered to your account Pani.")
        pani.sendLine("/mode +m")
        pani.expect("Pani set the modes of room klasa: +m")

        ola = self.native(server, "Ola")
        ola.sendLine("/register olahaslo")
        ola.readUntil("You are now logged in to the account Ola.")
        ola.sendLine("/join klasa")
        ola.expect("You are now in room klasa (2 members).")
        ola.sendLine("dzień dobry")
        ola.expect("! Room klasa is moderated: only voiced members and operators speak there.")
        pani.readUntil("Ola came over from room lobby.")
        pani.sendLine("/voice Ola")
        pani.expect("Pani set the modes of room klasa: +v Ola")
        ola.expect("Pani set the modes of room klasa: +v Ola")
        ola.sendLine("dzień dobry")
        ola.expect("Ola: dzień dobry")
        pani.expect("Ola: dzień dobry")

        troll = self.irc(server, "Troll")
        troll.sendLine("JOIN #klasa")
        troll.expect(":Troll!~troll@127.0.0.1 JOIN #klasa")
        troll.expect(f":{SERVER} 353 Troll = #klasa :@Pani +Ola Troll")
        troll.readUntil(f":{SERVER} 366 Troll #klasa :End of /NAMES list")
        troll.sendLine("PRIVMSG #klasa :hej")
        troll.expect(f":{SERVER} 404 Troll #klasa :Cannot send to channel")
        pani.expect("Troll joined the chat!")
        pani.sendLine("/kick Troll spam")
        pani.expect("Pani put Troll out of room klasa (spam).")
        troll.expect(":Pani!Pani@127.0.0.1 KICK #klasa Troll :spam")
        pani.sendLine("/ban Troll")
        pani.expect("Pani set the modes of room klasa: +b Troll!*@*")
        troll.sendLine("JOIN #klasa")
        troll.expect(f":{SERVER} 474 Troll #klasa :Cannot join channel (+b)")

        # A server operator puts the troll off the server and says so.
        szef = self.irc(server, "Szef")
        szef.sendLine("OPER szef zle")
        szef.expect(f":{SERVER} 464 Szef :Password incorrect")
        szef.sendLine("OPER szef szefpass")
        szef.expect(f":{SERVER} 381 Szef :You are now an IRC operator")
        szef.readUntil(":Szef!~szef@127.0.0.1 MODE Szef :+o")
        szef.sendLine("KILL Troll :dosyć")
        troll.expect(f"ERROR :Closing Link: {SERVER} (Killed (Szef (dosyć)))")
        szef.sendLine("WALLOPS :koniec lekcji")
        pani.expect("Server operator Szef to everyone: koniec lekcji")

        for client in (pani, ola, szef):
            client.close()
        self.assertEqual(server.stop(), 0)

        server = self.start(workdir)
        # Someone else asking for her nickname must know her password.
        impostor = LineClient(server.port)
        self.addCleanup(impostor.close)
        impostor.expect("NICK")
        impostor.sendLine("pani")
        impostor.expect("The nickname pani is registered: send its password on the next line.")
        impostor.expect("PASS pani")
        impostor.sendLine("zgaduję")
        impostor.expect("! The name Pani and that password do not match.")
        impostor.expect("NICK")

        pani = LineClient(server.port)
        self.addCleanup(pani.close)
        pani.expect("NICK")
        pani.sendLine("Pani")
        pani.readUntil("PASS Pani")
        pani.sendLine("sekret123")
        pani.expect("Connected to server!")
        pani.readUntil("You are now logged in to the account Pani.")
        pani.sendLine("/join klasa")
        pani.expect("You are now in room klasa (1 member).")
        pani.sendLine("/mode")
        pani.expect("The modes of room klasa: +mnt")
        pani.sendLine("/bans")
        pani.expect("Room klasa bans 1 mask:")
        self.assertTrue(pani.readLine().startswith("  Troll!*@* (set by Pani!Pani@127.0.0.1, "))

        # The troll cannot come back; Ola, by her account, keeps her voice.
        troll = self.irc(server, "Troll")
        troll.sendLine("JOIN #klasa")
        troll.expect(f":{SERVER} 474 Troll #klasa :Cannot join channel (+b)")
        ola = LineClient(server.port)
        self.addCleanup(ola.close)
        ola.expect("NICK")
        ola.sendLine("Ola")
        ola.readUntil("PASS Ola")
        ola.sendLine("olahaslo")
        ola.readUntil("You are now logged in to the account Ola.")
        ola.sendLine("/join klasa")
        ola.expect("You are now in room klasa (2 members).")
        # Her voice is what lets her speak in the moderated room.
        ola.sendLine("jestem")
        ola.expect("Ola: jestem")
        pani.readUntil("Ola: jestem")
