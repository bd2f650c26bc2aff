"""The embedded default store: one SecantusDB server process per data folder.

SecantusDB is GPL-2.0-only, so it only ever runs as a separate process
(``python -m secantus``); nothing here imports it. The first of our processes to
need the store starts the server and publishes its address in ``DATA/secantus.json``;
every other process (app, scheduler, crawler, CLI) reuses it. A stale file or a dead
server is detected by a ping and replaced, under a file lock so two processes never
start two servers on one folder.

The server requires SCRAM-SHA-256 authentication (``--auth``). On a folder's first start we
make a random credential, keep it in ``DATA/secantus.credential`` (0600, in a 0700 folder),
create that user on a server started once without auth, and restart it with ``--auth``; after
that, anything left that is not ours (another user, or data in a folder that was new) is
removed. Every process of ours reads the credential from the file; other local users can
neither read the files nor talk to the server without it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote_plus

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from listening.errors import EmbeddedStoreError
from listening.settings import settings

LISTENING_LINE = re.compile(r"listening on ([\d.]+):(\d+)")
START_TIMEOUT_S = 60.0
# WiredTiger cache of the embedded server. Its own default, 1G, let the server pass 1.2 GB of
# RSS at 800k mentions; a smaller cache bounds it. LISTENING_DB_CACHE overrides it ("1G").
CACHE_SIZE = "256M"
# Flags every server is started with. ``--standalone``: no replica-set advertisement, and so no
# oplog. We use neither change streams nor transactions, and the oplog copied every written
# document into a second table: at ~160k mentions (docs + oplog + index entries past the 256M
# cache) inserts stalled for good at 100% CPU (docs/scaling.md, "The write cliff").
SERVER_FLAGS = ("--standalone",)
USER = "listening"
STOPPED = "secantus.stopped"
SYNC_ON_COMMIT = False  # decided below after measuring
OURS = {"admin", "config", "local"}  # databases a new server has; the rest of a new folder is not ours


def data_dir() -> Path:
    """``$LISTENING_DATA`` when set, else ``./data`` under the working directory."""
    return settings().data_dir


def embedded_uri(folder: Path | None = None) -> str:
    """The URI of the folder's running server, starting one if there is none."""
    folder = folder or data_dir()
    private_folder(folder)
    with _locked(folder / "secantus.lock"):
        (folder / STOPPED).unlink(missing_ok=True)  # asked for: a stop no longer holds
        info = _read_info(folder) or {}
        password = _read_password(folder)
        if info.get("uri") and password and ping(with_credential(info["uri"], password)):
            return with_credential(info["uri"], password)
        if info.get("pid"):
            _terminate(int(info["pid"]))  # alive but not answering (or not ours to log into)
        if password is None:
            password = _provision(folder)
        return with_credential(_start(folder, _port_of(info.get("uri"))), password)


def private_folder(folder: Path) -> None:
    """Create the data folder readable by its owner only (0700), tightening an older one."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.stat().st_mode & 0o077:
        os.chmod(folder, 0o700)


def credential_path(folder: Path) -> Path:
    return folder / "secantus.credential"


def with_credential(uri: str, password: str) -> str:
    """The server's address with our user and password (SCRAM-SHA-256, users kept in admin)."""
    user = f"{quote_plus(USER)}:{quote_plus(password)}@"
    return uri.replace("mongodb://", f"mongodb://{user}", 1) + "&authSource=admin&authMechanism=SCRAM-SHA-256"


def _read_password(folder: Path) -> str | None:
    try:
        return json.loads(credential_path(folder).read_text(encoding="utf-8"))["password"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _provision(folder: Path) -> str:
    """First start of a folder: create our user on a server without auth, then keep the
    credential in a 0600 file. Returns the password."""
    new = not (folder / "db").exists()
    password = secrets.token_urlsafe(32)
    proc, uri = start_server(str(folder / "db"), folder / "secantus.log", auth=False)
    try:
        client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=10_000)
        try:
            if _has_user(client, f"admin.{USER}"):  # a folder whose credential file was lost
                client.admin.command("dropUser", USER)
            client.admin.command("createUser", USER, pwd=password, roles=["root"],
                                 mechanisms=["SCRAM-SHA-256"])
        finally:
            client.close()
    finally:
        _terminate(proc.pid)
    credential_path(folder).unlink(missing_ok=True)
    fd = os.open(credential_path(folder), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"user": USER, "password": password, "auth_source": "admin",
                   "mechanism": "SCRAM-SHA-256"}, handle)
    if new:
        (folder / "secantus.new").write_text("1", encoding="utf-8")
    return password


def _has_user(client: MongoClient, user_id: str) -> bool:
    return client.admin["system.users"].count_documents({"_id": user_id}) > 0


def _evict_strangers(folder: Path, uri: str) -> None:
    """Remove what someone may have slipped in while the first server ran without auth:
    every other user, and, in a folder that was new, every other database."""
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=10_000)
    try:
        for user in client.admin["system.users"].find({"_id": {"$ne": f"admin.{USER}"}}):
            client[user["db"]].command("dropUser", user["user"])
        if (folder / "secantus.new").exists():
            for name in set(client.list_database_names()) - OURS:
                client.drop_database(name)
            (folder / "secantus.new").unlink()
    finally:
        client.close()


def revive(folder: Path) -> str | None:
    """What a client's healer calls when the server stops answering: restart it, unless it was
    stopped on purpose (``stop``), which a live client must not undo."""
    if (folder / STOPPED).exists():
        return None
    return embedded_uri(folder)


def stop(folder: Path | None = None) -> bool:
    """Stop the folder's server (no healer restarts it); True when one was running."""
    folder = folder or data_dir()
    info = _read_info(folder)
    if folder.exists():
        (folder / STOPPED).write_text("stopped on purpose: the next embedded_uri() starts it again\n",
                                      encoding="utf-8")
    if not info:
        return False
    _terminate(int(info["pid"]))
    (folder / "secantus.json").unlink(missing_ok=True)
    return True


def start_server(storage_path: str, log_path: Path, port: int = 0, *,
                 auth: bool = False, sync_on_commit: bool = SYNC_ON_COMMIT) -> tuple[subprocess.Popen, str]:
    """Start a server detached from our process group; return it and its URI (no credential)."""
    log = open(log_path, "w", encoding="utf-8")
    flags = [*SERVER_FLAGS, *(["--auth"] if auth else [])]
    if sync_on_commit:
        flags.append("--sync-on-commit")
    proc = subprocess.Popen(
        [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port),
         "--storage-path", storage_path, "--cache-size", settings().db_cache, *flags],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        match = LISTENING_LINE.search(log_path.read_text(encoding="utf-8", errors="replace"))
        if match:
            return proc, f"mongodb://{match[1]}:{match[2]}/?directConnection=true"
        if proc.poll() is not None:
            raise EmbeddedStoreError(
                f"the embedded store exited with code {proc.returncode}; see {log_path}")
        time.sleep(0.05)
    proc.kill()
    raise EmbeddedStoreError(f"the embedded store did not start in {START_TIMEOUT_S:.0f}s; see {log_path}")


def ping(uri: str, timeout_ms: int = 1500) -> bool:
    """True when a server answers at ``uri``."""
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _start(folder: Path, port: int) -> str:
    """Start the folder's server, on its old port when free so clients reconnect by themselves."""
    if port and not _port_free(port):
        port = 0
    proc, uri = start_server(str(folder / "db"), folder / "secantus.log", port, auth=True)
    (folder / "secantus.json").write_text(
        json.dumps({"pid": proc.pid, "uri": uri}), encoding="utf-8")
    _evict_strangers(folder, with_credential(uri, _read_password(folder) or ""))
    return uri


def _port_of(uri: str | None) -> int:
    match = re.search(r":(\d+)/", uri or "")
    return int(match[1]) if match else 0


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _terminate(pid: int, grace_s: float = 20.0) -> None:
    """Stop a server and wait until it is gone, so its files are free again."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not process_alive(pid):
                return
            time.sleep(0.05)


def process_alive(pid: int) -> bool:
    """Whether a process of this host runs (a zombie, or our own exited child, does not)."""
    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False  # our own child, now reaped
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return _state(pid) != "Z"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "?"


def _read_info(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "secantus.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@contextmanager
def _locked(path: Path):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
