"""Every QAction of the main window, created in one place; menus and toolbars are built from
groups of action names (the labelme layout), so a shortcut or tooltip is defined exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QToolBar, QWidget

from app.ui.icons import painted_icon


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    tip: str
    slot: str | None = None  # method name on the window; called with `checked` if checkable
    shortcuts: tuple[str | QKeySequence.StandardKey, ...] = ()
    icon: QStyle.StandardPixmap | str | None = None  # a standard icon, or one of icons.py
    checkable: bool = False
    group: str | None = None  # exclusive group name


_SP = QStyle.StandardPixmap
SEP = None  # a separator in a menu / toolbar group

SPECS: tuple[ActionSpec, ...] = (
    # File
    ActionSpec("new", "&New…", "Start a new document (size and label set)", "file_new",
               (QKeySequence.StandardKey.New,), _SP.SP_FileIcon),
    ActionSpec("open", "&Open…", "Open a Spadework document (.ora)", "file_open",
               (QKeySequence.StandardKey.Open,), _SP.SP_DialogOpenButton),
    ActionSpec("save", "&Save", "Save the document (.ora)", "file_save",
               (QKeySequence.StandardKey.Save,), _SP.SP_DialogSaveButton),
    ActionSpec("save_as", "Save &As…", "Save the document under a new name", "file_save_as",
               ("Ctrl+Shift+S",)),
    ActionSpec("import_labels", "&Import Label Map…",
               "Add a colour-coded or id label map (PNG) as a new label layer", "file_import_labels",
               ("Ctrl+Shift+I",)),
    ActionSpec("import_image", "Import &Image…", "Add a photo as a new image layer",
               "file_import_image"),
    ActionSpec("export_render", "Export &Render…",
               "Render the picture at a chosen size and save it as PNG or JPEG",
               "file_export_render", ("Ctrl+Alt+E",)),
    ActionSpec("export_labels", "Export &Label Map…",
               "Save the composite label map as a colour-coded PNG", "file_export_labels"),
    ActionSpec("quit", "&Quit", "Close Spadework", "close", (QKeySequence.StandardKey.Quit,)),
    # Edit
    ActionSpec("undo", "&Undo", "Undo the last change", "undo", ("Ctrl+Z",), _SP.SP_ArrowBack),
    ActionSpec("redo", "&Redo", "Redo the change you undid", "redo",
               ("Ctrl+Shift+Z", "Ctrl+Y"), _SP.SP_ArrowForward),
    ActionSpec("brush_smaller", "Brush &Smaller", "Make the brush smaller", "brush_smaller",
               ("[",)),
    ActionSpec("brush_larger", "Brush &Larger", "Make the brush larger", "brush_larger", ("]",)),
    ActionSpec("brush_square", "S&quare Brush", "Paint with a square brush tip instead of a round one",
               "set_square_brush", (), "square", True),
    # Tools (exclusive)
    ActionSpec("tool_brush", "&Brush", "Paint the current class (B)", "select_tool_brush", ("B",),
               "brush", True, "tools"),
    ActionSpec("tool_eraser", "&Eraser", "Erase to no label (E)", "select_tool_eraser", ("E",),
               "eraser", True, "tools"),
    ActionSpec("tool_fill", "&Fill", "Fill the connected area under the cursor (G or F)",
               "select_tool_fill", ("G", "F"), "fill", True, "tools"),
    ActionSpec("tool_line", "&Line", "Draw a straight line (V)", "select_tool_line", ("V",), "line",
               True, "tools"),
    ActionSpec("tool_rect", "&Rectangle", "Draw a filled rectangle (R); Shift for a square",
               "select_tool_rect", ("R",), "rect", True, "tools"),
    ActionSpec("tool_ellipse", "Elli&pse", "Draw a filled ellipse (O); Shift for a circle",
               "select_tool_ellipse", ("O",), "ellipse", True, "tools"),
    ActionSpec("tool_picker", "&Eyedropper", "Pick the class under the cursor (I)",
               "select_tool_picker", ("I",), "picker", True, "tools"),
    ActionSpec("tool_pan", "&Pan", "Drag the view (H; or hold Space, or drag with the middle button)",
               "select_tool_pan", ("H",), "pan", True, "tools"),
    # View
    ActionSpec("zoom_in", "Zoom &In", "Zoom in (Ctrl+wheel up)", "zoom_in",
               (QKeySequence.StandardKey.ZoomIn, "Ctrl+="), None),
    ActionSpec("zoom_out", "Zoom &Out", "Zoom out (Ctrl+wheel down)", "zoom_out",
               (QKeySequence.StandardKey.ZoomOut,)),
    ActionSpec("zoom_fit", "&Fit in Window", "Show the whole canvas", "zoom_fit", ("Ctrl+0",)),
    ActionSpec("zoom_100", "&Actual Pixels", "One document pixel per screen pixel (100%)",
               "zoom_actual", ("Ctrl+1",)),
    ActionSpec("render_in_place", "Render &In Place",
               "Show the render over the labels instead of beside them", "set_render_in_place",
               ("Ctrl+T",), None, True),
    ActionSpec("labels_overlay", "Labels as &Overlay",
               "Draw the labels translucent over the image layers instead of as a colour map",
               "set_labels_overlay", ("Ctrl+L",), None, True),
    ActionSpec("theme_dark", "&Dark Theme", "Use the dark theme", "set_theme_dark", (), None, True,
               "theme"),
    ActionSpec("theme_light", "&Light Theme", "Use the light theme", "set_theme_light", (), None,
               True, "theme"),
    # Layer
    ActionSpec("layer_add", "&New Label Layer", "Add an empty label layer above the active one",
               "layer_add", ("Ctrl+Shift+N",)),
    ActionSpec("layer_duplicate", "&Duplicate Layer", "Copy the active layer", "layer_duplicate",
               ("Ctrl+J",)),
    ActionSpec("layer_delete", "De&lete Layer", "Remove the active layer", "layer_delete"),
    ActionSpec("layer_merge_down", "&Merge Down", "Merge the active layer into the one below",
               "layer_merge_down", ("Ctrl+E",)),
    # Help
    ActionSpec("user_guide", "&User Guide", "Where the user guide lives", "show_user_guide",
               (QKeySequence.StandardKey.HelpContents,)),
    ActionSpec("about", "&About Spadework", "Version and licence", "show_about"),
)

MENUS: dict[str, tuple[str | None, ...]] = {
    "&File": ("new", "open", "@recent", SEP, "save", "save_as", SEP, "import_labels",
              "import_image", "export_render", "export_labels", SEP, "quit"),
    "&Edit": ("undo", "redo", SEP, "brush_smaller", "brush_larger", "brush_square"),
    "&Tools": ("tool_brush", "tool_eraser", "tool_fill", "tool_line", "tool_rect", "tool_ellipse",
               "tool_picker", "tool_pan"),
    "&View": ("zoom_in", "zoom_out", "zoom_fit", "zoom_100", SEP, "render_in_place",
              "labels_overlay", SEP, "theme_dark", "theme_light", SEP, "@docks"),
    "&Layer": ("layer_add", "layer_duplicate", "layer_delete", "layer_merge_down"),
    "&Help": ("user_guide", "about"),
}

TOOLBARS: dict[str, tuple[str | None, ...]] = {
    "File": ("new", "open", "save", SEP, "undo", "redo"),
    "Tools": ("tool_brush", "tool_eraser", "tool_fill", "tool_line", "tool_rect", "tool_ellipse",
              "tool_picker", "tool_pan", SEP, "brush_square"),
    "View": ("zoom_fit", "zoom_100", "render_in_place", "labels_overlay"),
}


class Actions(dict[str, QAction]):
    """name -> QAction, plus the exclusive groups by name."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[str, QActionGroup] = {}


def create_actions(window: QWidget) -> Actions:
    """Create every action, parented to and wired to `window`'s methods named in SPECS."""
    actions = Actions()
    style = window.style()
    for spec in SPECS:
        action = QAction(spec.text, window)
        action.setObjectName(f"action_{spec.name}")
        tip = spec.tip
        if spec.shortcuts:
            action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
            shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            tip = f"{tip} ({shown})" if shown and shown not in tip else tip
        action.setToolTip(tip)
        action.setStatusTip(spec.tip)
        if isinstance(spec.icon, str):
            action.setIcon(painted_icon(spec.icon))
        elif spec.icon is not None:
            action.setIcon(style.standardIcon(spec.icon))
        action.setCheckable(spec.checkable)
        if spec.group is not None:
            group = actions.groups.get(spec.group)
            if group is None:
                group = actions.groups[spec.group] = QActionGroup(window)
                group.setExclusive(True)
            group.addAction(action)
        if spec.slot is not None:
            _connect(action, getattr(window, spec.slot), spec.checkable)
        window.addAction(action)  # shortcuts work even when a menu/toolbar hides the action
        actions[spec.name] = action
    return actions


def _connect(action: QAction, slot: Callable, checkable: bool) -> None:
    if checkable:
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())


def fill_menu(menu: QMenu, actions: Actions, names: Iterable[str | None],
              extra: dict[str, QMenu | Callable[[QMenu], None]]) -> None:
    """Add actions by name; '@x' entries come from `extra` (a sub-menu or a filler function)."""
    for name in names:
        if name is None:
            menu.addSeparator()
        elif name.startswith("@"):
            item = extra[name[1:]]
            if isinstance(item, QMenu):
                menu.addMenu(item)
            else:
                item(menu)
        else:
            menu.addAction(actions[name])


def fill_toolbar(toolbar: QToolBar, actions: Actions, names: Iterable[str | None]) -> None:
    for name in names:
        if name is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(actions[name])
