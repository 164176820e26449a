"""Autosave and crash recovery.

Each running session holds an OS lock on its own `session-<id>.lock` file in the autosave
folder and writes `<session>-<n>.ora` plus a `.json` sidecar (original path, time, title)
for every dirty document. A clean exit (`close()`) removes them. After a crash the lock is
released by the OS, but the files stay: `find_recoverable()` lists autosaves whose session
lock is no longer held, and `recover()` opens them.
"""

from __future__ import annotations

import json
import os
import time
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from app.document.document import Document
from app.document.ora import OraError, load_ora, save_ora
from ml import userdirs
from ml.atomic import atomic_write_text

if os.name == "nt":
    import msvcrt

    def _try_lock(fh: IO) -> bool:
        try:
            fh.seek(0)  # every process locks the same first byte
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fh: IO) -> bool:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


def _lock_path(folder: Path, session: str) -> Path:
    return folder / f"session-{session}.lock"


def _session_alive(folder: Path, session: str) -> bool:
    """True while some process holds the session's lock (it is running)."""
    path = _lock_path(folder, session)
    if not path.exists():
        return False
    try:
        with open(path, "a+") as fh:
            return not _try_lock(fh)  # closing the file drops a lock we just took
    except OSError:
        return False


class Autosaver:
    """Writes dirty documents to the autosave folder; one per running program.

    The UI calls `maybe_save(doc)` every 30 s (a QTimer) and `close()` on a clean exit.
    """

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = Path(folder) if folder is not None else userdirs.autosave_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.session = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lock_file: IO | None = open(_lock_path(self.folder, self.session), "a+")  # noqa: SIM115
        if not _try_lock(self._lock_file):
            raise RuntimeError(f"cannot lock the autosave session file in {self.folder}")
        self._lock_file.write(json.dumps({"pid": os.getpid(), "started": time.time()}))
        self._lock_file.flush()
        self._keys: weakref.WeakKeyDictionary[Document, int] = weakref.WeakKeyDictionary()
        self._revisions: dict[int, int] = {}
        self._next = 1

    def path_for(self, doc: Document) -> Path:
        """The autosave file of `doc` in this session."""
        if doc not in self._keys:
            self._keys[doc] = self._next
            self._next += 1
        return self.folder / f"{self.session}-{self._keys[doc]}.ora"

    def maybe_save(self, doc: Document, render: np.ndarray | None = None) -> Path | None:
        """Autosave `doc` if it changed since its last autosave; returns the file written.

        A clean document needs no autosave: its old one (if any) is removed.
        """
        self._require_open()
        if not doc.dirty:
            self.forget(doc)
            return None
        key = self._keys.get(doc)
        if key is not None and self._revisions.get(key) == doc.revision:
            return None
        path = self.path_for(doc)
        save_ora(doc, path, render=render, mark_saved=False)
        sidecar = {
            "session": self.session,
            "original_path": str(doc.path) if doc.path is not None else None,
            "title": doc.title,
            "saved_at": time.time(),
        }
        atomic_write_text(path.with_suffix(".json"), json.dumps(sidecar, indent=1))
        self._revisions[self._keys[doc]] = doc.revision
        return path

    def forget(self, doc: Document) -> None:
        """Remove `doc`'s autosave (it was saved, or closed without saving on purpose)."""
        key = self._keys.get(doc)
        if key is None:
            return
        path = self.folder / f"{self.session}-{key}.ora"
        path.with_suffix(".json").unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        self._revisions.pop(key, None)

    def close(self) -> None:
        """Clean exit: remove this session's autosaves and its lock."""
        if self._lock_file is None:
            return
        for sidecar in self.folder.glob(f"{self.session}-*.json"):
            sidecar.with_suffix(".ora").unlink(missing_ok=True)
            sidecar.unlink(missing_ok=True)
        self._lock_file.close()
        self._lock_file = None
        _lock_path(self.folder, self.session).unlink(missing_ok=True)

    def _require_open(self) -> None:
        if self._lock_file is None:
            raise RuntimeError("this autosaver is closed")


@dataclass(frozen=True)
class Recoverable:
    """An autosave left behind by a session that did not exit cleanly."""

    path: Path
    original_path: Path | None
    saved_at: float
    title: str
    session: str


def find_recoverable(folder: str | os.PathLike | None = None) -> list[Recoverable]:
    """Autosaves of sessions that are no longer running, newest first."""
    folder = Path(folder) if folder is not None else userdirs.autosave_dir()
    found: list[Recoverable] = []
    alive: dict[str, bool] = {}
    for sidecar in folder.glob("*.json"):
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            session = str(data["session"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a sidecar being written or not ours
        path = sidecar.with_suffix(".ora")
        if not path.is_file():
            continue
        if session not in alive:
            alive[session] = _session_alive(folder, session)
        if alive[session]:
            continue
        original = data.get("original_path")
        found.append(
            Recoverable(
                path=path,
                original_path=Path(original) if original else None,
                saved_at=float(data.get("saved_at", path.stat().st_mtime)),
                title=str(data.get("title", path.stem)),
                session=session,
            )
        )
    return sorted(found, key=lambda item: item.saved_at, reverse=True)


def recover(item: Recoverable, autosaver: Autosaver | None = None) -> Document:
    """Open an autosave as an unsaved document that belongs to its original file.

    With `autosaver` (this session's), the document is autosaved again here right away and
    the old files are removed, so a second crash still leaves it recoverable.
    """
    try:
        doc = load_ora(item.path)
    except OraError as exc:
        raise OraError(f"the autosave of {item.title!r} cannot be read: {exc}") from None
    doc.path = item.original_path
    doc.mark_modified()
    if autosaver is not None:
        autosaver.maybe_save(doc)
        discard(item)
    return doc


def discard(item: Recoverable) -> None:
    """Delete an autosave (and its dead session's lock once nothing else refers to it)."""
    item.path.with_suffix(".json").unlink(missing_ok=True)
    item.path.unlink(missing_ok=True)
    folder = item.path.parent
    if not any(folder.glob(f"{item.session}-*.json")) and not _session_alive(folder, item.session):
        _lock_path(folder, item.session).unlink(missing_ok=True)
