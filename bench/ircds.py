"""
Configuration files for the C baselines, ngircd and InspIRCd, written fresh
into each run's directory.

The packages' own configurations are for the Internet: a handful of
connections per address, flood protection that throttles a client to a
few lines a second, DNS and ident lookups at every connection.  Every
benchmark client comes from a few loopback addresses and the senders send
thousands of lines a second, so each file below lifts exactly those limits
(each setting says which scenario needs it) and keeps the rest as shipped.
Nothing is looked up, no PAM, no MOTD file, the PID file is in a
temporary directory and the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

from pathlib import Path

# What the bench's IRC clients may hold: S3 holds 19,900 at once.
CONNECTIONS = 100_000
# InspIRCd's listen backlog (Linux caps it at net.core.somaxconn, 4,096).
BACKLOG = 4096


def ngircdConfig(runtime: Path, port: int) -> str:
    """
    ngircd 26: C{MaxPenaltyTime = 0} switches its flood protection off (a
    user otherwise gets a second's penalty once it sends more than 256
    bytes a second or more than 3 commands in one read).  Started as root,
    it runs as C{nobody} (it refuses to stay root) and writes its PID file
    after switching, so that goes to C{runtime}, a directory C{nobody} may
    write.
    """
    return f"""\
[Global]
    Name = ngircd.bench.invalid
    Info = chatsvc bench baseline
    AdminInfo1 = chatsvc bench
    AdminInfo2 = loopback only
    AdminEMail = bench@localhost
    Listen = 127.0.0.1
    Ports = {port}
    # A phrase, not a file: nothing is read after start-up.
    MotdPhrase = chatsvc bench
    PidFile = {runtime / "ngircd.pid"}
    ServerUID = nobody

[Limits]
    MaxConnections = 0
    # Every client comes from one of a few loopback addresses (S3: 19,900).
    MaxConnectionsIP = 0
    MaxJoins = 0
    # No flood protection: S1's senders send thousands of lines a second.
    MaxPenaltyTime = 0
    PingTimeout = 600
    PongTimeout = 60

[Options]
    DNS = no
    Ident = no
    PAM = no
    # Not the system's /etc/ngircd/ngircd.conf.d: nothing but this file.
    IncludeDir = {runtime}
"""


def inspircdConfig(workdir: Path, port: int, softlimit: int) -> str:
    """
    InspIRCd 3: a user's commands cost it 1,000 "penalty" each, which its
    class's C{commandrate} drains every second; past C{threshold} x 1,000
    it stops reading the user.  Both are raised to a million commands a
    second, far above what S1's senders send (threshold x 1,000 must fit
    an unsigned int).  C{localmax}
    and C{globalmax} limit clients per address; C{recvq} is what a sender
    may have unread (S5 sends 480-byte lines).  C{hardsendq} stays at the
    1 MiB it ships with: it is the slow reader's bound in S5, as chatsvc's
    is 1 MiB plus 64 KiB.  Nothing is looked up (C{resolvehostnames},
    no ident module), and the resolver it starts anyway is pointed at
    loopback rather than at C{/etc/resolv.conf}'s server.
    """
    return f"""\
<server name="inspircd.bench.invalid" description="chatsvc bench baseline" network="bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="127.0.0.1" port="{port}" type="clients">
<connect name="bench" allow="*"
         timeout="60" pingfreq="600"
         localmax="{CONNECTIONS}" globalmax="{CONNECTIONS}" limit="{CONNECTIONS}" maxconnwarn="no"
         threshold="1000000" commandrate="1000000000" fakelag="yes"
         recvq="1048576" softsendq="1048576" hardsendq="1048576"
         maxchans="100" resolvehostnames="no" useident="no">
<cidr ipv4clone="32" ipv6clone="128">
<performance softlimit="{softlimit}" somaxconn="{BACKLOG}" clonesonconnect="no" quietbursts="yes">
<dns server="127.0.0.1" timeout="1">
<pid file="{workdir / "inspircd.pid"}">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{workdir / "inspircd.log"}">
"""

