"""Autosave and crash recovery, with a real process that autosaves and is then killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from app.document import Document
from app.document.autosave import Autosaver, discard, find_recoverable, recover

ROOT = Path(__file__).resolve().parents[2]
TREE, WATER = 11, 7

CRASHING_SESSION = textwrap.dedent(
    """
    import os, signal, sys
    from app.document import Document
    from app.document.autosave import Autosaver
    from app.document.ora import save_ora

    folder, original, how = sys.argv[1], sys.argv[2], sys.argv[3]
    saver = Autosaver(folder)
    doc = Document.new(32, 24, fill=0)
    save_ora(doc, original)
    with doc.begin_stroke() as s:
        s.segment(2, 2, 29, 20, 3, 11)
    with doc.begin_stroke() as s:
        s.ellipse(4, 4, 12, 10, 7, filled=True)
    print(saver.maybe_save(doc), flush=True)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "exit":
        os._exit(3)
    saver.close()
    """
)


def run_session(folder: Path, original: Path, how: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CRASHING_SESSION, str(folder), str(original), how],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def expected_labels() -> np.ndarray:
    doc = Document.new(32, 24, fill=0)
    with doc.begin_stroke() as s:
        s.segment(2, 2, 29, 20, 3, TREE)
    with doc.begin_stroke() as s:
        s.ellipse(4, 4, 12, 10, WATER, filled=True)
    return doc.composite_labels()


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_crashed_session_leaves_a_recoverable_document(tmp_path, how):
    folder = tmp_path / "autosave"
    original = tmp_path / "work.ora"
    out = run_session(folder, original, how)
    assert out.returncode == (-signal.SIGKILL if how == "kill" else 3), out.stderr
    assert ".ora" in out.stdout
    (item,) = find_recoverable(folder)
    assert item.original_path == original and item.title == "work"
    doc = recover(item)
    assert np.array_equal(doc.composite_labels(), expected_labels())
    assert doc.dirty and doc.path == original


def test_cleanly_closed_session_leaves_nothing(tmp_path):
    folder = tmp_path / "autosave"
    out = run_session(folder, tmp_path / "work.ora", "close")
    assert out.returncode == 0, out.stderr
    assert find_recoverable(folder) == []
    assert list(folder.iterdir()) == []


def test_running_session_is_not_offered_for_recovery(tmp_path):
    saver = Autosaver(tmp_path)
    doc = Document.new(8, 8)
    with doc.begin_stroke() as s:
        s.dab(3, 3, 3, TREE)
    assert saver.maybe_save(doc) is not None
    assert find_recoverable(tmp_path) == []
    saver.close()


def test_autosave_only_when_changed_and_removed_when_clean(tmp_path):
    saver = Autosaver(tmp_path)
    doc = Document.new(8, 8)
    assert saver.maybe_save(doc) is None  # clean: nothing to protect
    with doc.begin_stroke() as s:
        s.dab(3, 3, 3, TREE)
    path = saver.maybe_save(doc)
    assert path is not None and path.with_suffix(".json").is_file()
    mtime = path.stat().st_mtime_ns
    assert saver.maybe_save(doc) is None and path.stat().st_mtime_ns == mtime
    doc.undo()  # back to the saved state: the autosave is obsolete
    assert saver.maybe_save(doc) is None and not path.exists()
    saver.close()
    with pytest.raises(RuntimeError, match="closed"):
        saver.maybe_save(doc)


def test_recover_into_a_new_session_moves_the_autosave(tmp_path):
    folder = tmp_path / "autosave"
    out = run_session(folder, tmp_path / "work.ora", "kill")
    assert out.returncode == -signal.SIGKILL
    (item,) = find_recoverable(folder)
    saver = Autosaver(folder)
    doc = recover(item, autosaver=saver)
    assert not item.path.exists()
    assert saver.path_for(doc).is_file()
    assert find_recoverable(folder) == []  # now owned by the running session
    saver.close()
    assert list(folder.iterdir()) == []


def test_discard_removes_files_and_the_dead_lock(tmp_path):
    folder = tmp_path / "autosave"
    run_session(folder, tmp_path / "work.ora", "exit")
    (item,) = find_recoverable(folder)
    discard(item)
    assert find_recoverable(folder) == [] and list(folder.iterdir()) == []


def test_default_folder_is_the_user_autosave_dir(spadework_home):
    saver = Autosaver()
    assert saver.folder == spadework_home / "autosave"
    saver.close()
    assert os.listdir(saver.folder) == []
