"""The models dialog: the real library, real imports in a worker, label-set confirmation."""

from __future__ import annotations

import io
import tarfile

import pytest
import torch
from spade_test_models import save_tiny_model

from app.ui.models_dialog import COLUMNS, WEIGHTS_NOTE, ModelsDialog
from ml.spade.config import GeneratorConfig
from ml.spade.library import get_card, list_models
from ml.spade.networks import SPADEGenerator

WAIT = 60_000


def _official_like_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """An ADE20K-layout generator (151 label channels) with a tiny width, random weights."""
    torch.manual_seed(seed)
    cfg = GeneratorConfig(label_nc=150, contain_dontcare=True, no_instance=True, ngf=1)
    return SPADEGenerator(cfg).state_dict()


def _save_pth(path, seed: int = 0):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(_official_like_state(seed), path)
    return path


def _archive(path, folders: list[str]):
    with tarfile.open(path, "w:gz") as archive:
        for i, folder in enumerate(folders):
            buffer = io.BytesIO()
            torch.save(_official_like_state(i), buffer)
            info = tarfile.TarInfo(f"checkpoints/{folder}/latest_net_G.pth")
            info.size = buffer.tell()
            buffer.seek(0)
            archive.addfile(info, buffer)
    return path


@pytest.fixture
def dialog(qtbot, spadework_home):
    save_tiny_model("styled", presets=("dawn",))
    save_tiny_model("plain", use_vae=False, encoder=False)
    made = ModelsDialog(current_model_id="styled", current_label_set="landscape")
    qtbot.addWidget(made)
    made.show()
    yield made
    if made.is_importing():
        qtbot.waitSignal(made.import_finished, timeout=WAIT).wait()


def _row(dialog: ModelsDialog, model_id: str) -> list[str]:
    row = [c.id for c in dialog.cards()].index(model_id)
    return [dialog.table.item(row, col).text() for col in range(len(COLUMNS))]


def test_lists_the_library_with_its_facts(dialog, spadework_home):
    ids = [c.id for c in dialog.cards()]
    assert {"styled", "plain"} <= set(ids) and ids == [c.id for c in list_models()]
    styled = dict(zip(COLUMNS, _row(dialog, "styled"), strict=True))
    assert styled["Name"] == "Tiny styled  (current)"
    assert styled["Dataset"] == "landscape" and styled["Label set"] == "Landscape"
    assert styled["Output"] == "64×64" and styled["Licence"] == "MIT"
    folder = spadework_home / "models" / "spade" / "styled"
    megabytes = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    assert styled["Size"] == f"{megabytes:.1f} MB" and megabytes > 0.05
    assert styled["Style input"] == "yes (with encoder)"
    assert dict(zip(COLUMNS, _row(dialog, "plain"), strict=True))["Style input"] == "no"
    assert dialog.selected_card().id == "styled"  # the document's model is preselected
    assert "styled" in dialog.details.text()


def test_the_dialog_explains_where_official_weights_come_from():
    assert "NVlabs/SPADE" in WEIGHTS_NOTE and "checkpoints.tar.gz" in WEIGHTS_NOTE
    assert "CC BY-NC-SA 4.0" in WEIGHTS_NOTE and "non-commercial" in WEIGHTS_NOTE
    assert "never bundles" in WEIGHTS_NOTE


def test_choosing_a_model_with_the_same_label_set_needs_no_question(qtbot, dialog):
    asked: list[str] = []
    dialog.confirm = lambda question: asked.append(question) or True
    with qtbot.waitSignal(dialog.model_chosen) as blocker:
        assert dialog.choose("plain")
    assert blocker.args == ["plain"] and asked == []
    assert "(current)" in _row(dialog, "plain")[0]


def test_switching_label_set_must_be_confirmed(qtbot, dialog, tmp_path):
    with qtbot.waitSignal(dialog.import_finished, timeout=WAIT):
        dialog.import_from(_save_pth(tmp_path / "ade" / "latest_net_G.pth"))
    imported = get_card(dialog.selected_card().id)
    assert imported.label_set == "ade20k"
    asked: list[str] = []
    dialog.confirm = lambda question: asked.append(question) or False
    with qtbot.assertNotEmitted(dialog.model_chosen):
        assert not dialog.choose(imported.id)
    assert len(asked) == 1 and "ADE20K" in asked[0] and "Landscape" in asked[0]
    dialog.confirm = lambda question: True
    with qtbot.waitSignal(dialog.model_chosen) as blocker:
        assert dialog.choose(imported.id)
    assert blocker.args == [imported.id] and dialog.current_label_set == "ade20k"


def test_import_runs_in_a_worker_with_progress(qtbot, dialog, tmp_path):
    path = _save_pth(tmp_path / "ade20k_pretrained" / "latest_net_G.pth")
    progress: list[int] = []
    dialog.progress_bar.valueChanged.connect(progress.append)
    with qtbot.waitSignal(dialog.imported, timeout=WAIT) as blocker:
        dialog.import_from(path)
        assert dialog.is_importing() and dialog.progress_bar.isVisibleTo(dialog)
        assert not dialog.import_button.isEnabled()
    model_id = blocker.args[0]
    card = get_card(model_id)
    assert card.dataset == "ade20k" and "CC BY-NC-SA" in card.licence and not card.bundled
    assert model_id in [c.id for c in dialog.cards()] and dialog.selected_card().id == model_id
    assert dict(zip(COLUMNS, _row(dialog, model_id), strict=True))["Style input"] == "no"
    assert 60 in progress and progress[-1] == 100
    assert not dialog.progress_bar.isVisibleTo(dialog) and dialog.import_button.isEnabled()
    assert dialog.message.text().startswith("Imported")


def test_an_archive_with_several_models_asks_which(qtbot, dialog, tmp_path):
    path = _archive(tmp_path / "checkpoints.tar.gz", ["ade20k_pretrained", "other_pretrained"])
    offered: list[list[str]] = []
    dialog.pick_member = lambda names: offered.append(names) or names[0]
    with qtbot.waitSignal(dialog.imported, timeout=WAIT) as blocker:
        dialog.import_from(path)
    assert offered == [["checkpoints/ade20k_pretrained", "checkpoints/other_pretrained"]]
    assert "ade20k_pretrained" in get_card(blocker.args[0]).source
    dialog.pick_member = lambda names: None
    with qtbot.waitSignal(dialog.import_finished, timeout=WAIT) as blocker:
        dialog.import_from(path)
    assert blocker.args == [False] and dialog.message.text() == "Import cancelled."


def test_a_bad_checkpoint_is_a_clear_message_and_adds_nothing(qtbot, dialog, tmp_path):
    before = [c.id for c in dialog.cards()]
    junk = tmp_path / "latest_net_G.pth"
    junk.write_bytes(b"this is not a checkpoint")
    with qtbot.waitSignal(dialog.import_finished, timeout=WAIT) as blocker:
        dialog.import_from(junk)
    assert blocker.args == [False]
    text = dialog.message.text()
    assert text.startswith("Import failed: ") and "latest_net_G.pth" in text and "\n" not in text
    assert [c.id for c in list_models()] == before
    with qtbot.waitSignal(dialog.import_finished, timeout=WAIT):
        dialog.import_from(tmp_path / "missing.pth")
    assert "no such file" in dialog.message.text()
