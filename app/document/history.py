"""Undo history: a linear list of commands with a saved-state marker.

A command knows how to undo and redo itself on a document. Pixel commands store only the
bounding box of changed pixels (old and new values), so a stroke costs what it touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from app.document.signals import Signal

if TYPE_CHECKING:
    from app.document.document import Document


class Command(Protocol):
    label: str

    def undo(self, doc: Document) -> None: ...

    def redo(self, doc: Document) -> None: ...

    def nbytes(self) -> int: ...

    def absorb(self, other: Command) -> bool:
        """Fold `other` (pushed right after) into self; True when it did (slider drags)."""
        ...


class History:
    """Commands before `position` are done; those after it can be redone.

    `changed` fires (no arguments) whenever can_undo/can_redo or the labels may differ.
    The oldest steps are dropped beyond `max_steps` or `max_bytes`.
    """

    def __init__(self, max_steps: int = 300, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.max_steps = max_steps
        self.max_bytes = max_bytes
        self._commands: list[Command] = []
        self._position = 0
        self._saved: int | None = 0  # None: the saved state can no longer be reached
        self.changed = Signal()

    @property
    def position(self) -> int:
        return self._position

    def __len__(self) -> int:
        return len(self._commands)

    @property
    def can_undo(self) -> bool:
        return self._position > 0

    @property
    def can_redo(self) -> bool:
        return self._position < len(self._commands)

    @property
    def undo_label(self) -> str | None:
        return self._commands[self._position - 1].label if self.can_undo else None

    @property
    def redo_label(self) -> str | None:
        return self._commands[self._position].label if self.can_redo else None

    @property
    def at_saved_state(self) -> bool:
        return self._saved == self._position

    def mark_saved(self) -> None:
        self._saved = self._position
        self.changed.emit()

    def push(self, command: Command) -> None:
        """Record a command that was already applied; drops the redo branch."""
        if self._saved is not None and self._saved > self._position:
            self._saved = None
        del self._commands[self._position :]
        last = self._commands[-1] if self._commands else None
        if last is not None and self._saved != self._position and last.absorb(command):
            self.changed.emit()
            return
        self._commands.append(command)
        self._position += 1
        self._trim()
        self.changed.emit()

    def step_back(self) -> Command:
        """The command to undo; moves the position. Raises IndexError when there is none."""
        if not self.can_undo:
            raise IndexError("nothing to undo")
        self._position -= 1
        self.changed.emit()
        return self._commands[self._position]

    def step_forward(self) -> Command:
        if not self.can_redo:
            raise IndexError("nothing to redo")
        self._position += 1
        self.changed.emit()
        return self._commands[self._position - 1]

    def clear(self) -> None:
        self._commands.clear()
        self._position = 0
        self._saved = 0
        self.changed.emit()

    def nbytes(self) -> int:
        return sum(c.nbytes() for c in self._commands)

    def _trim(self) -> None:
        while len(self._commands) > 1 and (
            len(self._commands) > self.max_steps or self.nbytes() > self.max_bytes
        ):
            self._commands.pop(0)
            self._position -= 1
            if self._saved is not None:
                self._saved = self._saved - 1 if self._saved > 0 else None
