"""SPADE training: the losses move, resume is bit-exact, cancel, VGG weights, model export."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
import torch
from torchvision.models.vgg import cfgs, make_layers

from ml.spade import train_state
from ml.spade.config import GeneratorConfig
from ml.spade.datasets import ArrayDataset, DatasetError
from ml.spade.library import load_model
from ml.spade.losses import VGGWeightsError
from ml.spade.train import TrainConfig, Trainer, TrainingCancelled, _StepRandom


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: on a shared 2-core machine more threads only fight each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


PALETTE = np.array([[200, 40, 40], [40, 200, 40], [40, 40, 200], [230, 230, 60]], np.uint8)


def scenes(n: int = 8, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rectangles of 4 classes, each class one flat colour: easy to learn, quick to check."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        for _ in range(3):
            y, x = rng.integers(0, size - 8, 2)
            h, w = rng.integers(6, size // 2 + 4, 2)
            labels[i, y : y + h, x : x + w] = rng.integers(0, 4)
    return PALETTE[labels], labels


def tiny_config(vae: bool = False, size: int = 32, **kw) -> TrainConfig:
    gen = GeneratorConfig(
        label_nc=4, contain_dontcare=True, no_instance=True, ngf=8, crop_size=size,
        use_vae=vae, z_dim=8,
    )
    kw.setdefault("batch_size", 2)  # the 1x1 latent grid needs 2 samples for batch norm
    return TrainConfig(gen, ndf=8, n_layers_D=3, label_set="tiny", **kw)


def state_of(trainer: Trainer) -> dict[str, torch.Tensor]:
    tensors, _ = trainer._state_tensors()
    return {k: v for k, v in tensors.items() if not k.startswith("rng.")}


def test_a_few_dozen_steps_learn_the_class_colours():
    images, labels = scenes(16)
    trainer = Trainer(tiny_config(batch_size=4, seed=1), ArrayDataset(images, labels, crop_size=32))
    l1, d_loss = [], []
    for _ in range(40):
        real = trainer._batch(trainer.step).real
        losses, fake = trainer.train_step()
        l1.append(float((fake - real).abs().mean()))
        d_loss.append(losses["D_fake"] + losses["D_real"])
    assert set(losses) == {"G_GAN", "G_feat", "D_fake", "D_real"}
    assert all(np.isfinite(v) for v in losses.values())
    # From mid-grey noise towards the class colours.
    assert np.mean(l1[-5:]) < 0.75 * l1[0]
    # D starts at chance (hinge 1 + 1) and learns to tell photos from fakes.
    assert d_loss[0] == pytest.approx(2.0, abs=0.05) and min(d_loss) < 1.7


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_resume_continues_bit_exactly(tmp_path, ema_decay):
    images, labels = scenes(6)
    data = ArrayDataset(images, labels, crop_size=32)
    config = tiny_config(vae=True, batch_size=2, checkpoint_every=4, ema_decay=ema_decay)
    straight = Trainer(config, data, tmp_path / "straight")
    straight.train(8)

    halves = Trainer(config, data, tmp_path / "halves")
    halves.train(4)
    del halves
    resumed = Trainer.resume(tmp_path / "halves", data)
    assert resumed.step == 4
    resumed.train(8)

    a, b = state_of(straight), state_of(resumed)
    assert a.keys() == b.keys()
    assert any(k.startswith("E.") for k in a) and any(".exp_avg_sq" in k for k in a)
    assert any(k.startswith("G_ema.") for k in a) == (ema_decay > 0)
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert different == []
    # Training moved the weights: the comparison is not between two untouched models.
    fresh = state_of(Trainer(config, data))
    assert not torch.equal(fresh["G.conv_img.weight"], a["G.conv_img.weight"])


def test_checkpoints_are_safetensors_plus_json_and_pruned(tmp_path):
    images, labels = scenes(4)
    trainer = Trainer(tiny_config(checkpoint_every=2), ArrayDataset(images, labels, crop_size=32), tmp_path)
    trainer.train(6)
    folders = sorted(p.name for p in tmp_path.glob("step-*"))
    assert folders == ["step-000004", "step-000006"]
    assert (tmp_path / "latest.txt").read_text().strip() == "step-000006"
    assert {p.name for p in (tmp_path / "step-000006").iterdir()} == {"state.safetensors", "state.json"}
    tensors, meta = train_state.load_state(tmp_path / "step-000006")
    assert meta["step"] == 6 and meta["config"]["generator"]["ngf"] == 8
    assert "opt_d.state.0.exp_avg" in tensors and "rng.torch" in tensors


def test_a_damaged_checkpoint_gives_a_clear_error(tmp_path):
    images, labels = scenes(4)
    data = ArrayDataset(images, labels, crop_size=32)
    Trainer(tiny_config(), data, tmp_path).train(1)
    (tmp_path / "step-000001" / "state.safetensors").write_bytes(b"not tensors")
    with pytest.raises(train_state.CheckpointStateError, match="damaged|unreadable"):
        Trainer.resume(tmp_path, data)
    with pytest.raises(train_state.CheckpointStateError, match="no training checkpoint"):
        Trainer.resume(tmp_path / "empty", data)


def test_cancel_stops_inside_a_step_and_keeps_completed_steps(tmp_path):
    images, labels = scenes(4)
    trainer = Trainer(tiny_config(), ArrayDataset(images, labels, crop_size=32), tmp_path)
    cancel = threading.Event()
    reached = []

    def on_progress(p):
        reached.append(p.step)
        if p.step == 3:
            # Raise the flag from inside the next step's discriminator forward pass.
            disc = trainer.D.discriminator_0.model0
            disc.register_forward_hook(lambda *_: cancel.set())

    with pytest.raises(TrainingCancelled):
        trainer.train(50, callback=on_progress, cancel=cancel)
    assert reached == [1, 2, 3]
    assert trainer.step == 3
    assert (tmp_path / "latest.txt").read_text().strip() == "step-000003"
    assert Trainer.resume(tmp_path, ArrayDataset(images, labels, crop_size=32)).step == 3


def test_progress_reports_preview_and_eta():
    images, labels = scenes(4)
    trainer = Trainer(tiny_config(preview_every=2), ArrayDataset(images, labels, crop_size=32))
    reports = []
    trainer.train(3, callback=reports.append)
    assert [r.step for r in reports] == [1, 2, 3]
    assert reports[0].preview is None and reports[1].preview.shape == (32, 32, 3)
    assert reports[1].preview.dtype == np.uint8 and reports[2].preview is not None
    assert reports[0].eta_seconds > 0 and reports[2].eta_seconds == 0
    assert reports[2].seconds >= reports[0].seconds


def test_vgg_loss_needs_a_local_file(tmp_path, caplog):
    images, labels = scenes(2)
    data = ArrayDataset(images, labels, crop_size=32)
    with caplog.at_level(logging.WARNING):
        Trainer(tiny_config(), data)
    assert "VGG19 perceptual loss is off" in caplog.text

    torch.manual_seed(0)
    path = tmp_path / "vgg19.pth"
    features = make_layers(cfgs["E"], batch_norm=False)  # torchvision vgg19().features
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
    trainer = Trainer(tiny_config(vgg_weights=path), data)
    losses, _ = trainer.train_step()
    assert losses["G_VGG"] > 0

    bad = tmp_path / "other.pth"
    torch.save({"features.0.weight": torch.zeros(3)}, bad)
    with pytest.raises(VGGWeightsError, match="not torchvision vgg19 weights"):
        Trainer(tiny_config(vgg_weights=bad), data)


def test_l1_term_stands_in_for_vgg_without_a_warning(caplog):
    images, labels = scenes(2)
    data = ArrayDataset(images, labels, crop_size=32)
    with caplog.at_level(logging.WARNING):
        trainer = Trainer(tiny_config(lambda_vgg=0.0, lambda_l1=10.0), data)
    assert "VGG19" not in caplog.text
    losses, _ = trainer.train_step()
    assert losses["G_L1"] > 0 and "G_VGG" not in losses
    plain, _ = Trainer(tiny_config(lambda_vgg=0.0), data).train_step()
    assert "G_L1" not in plain


def test_vgg_file_with_pickled_code_is_refused(tmp_path):
    images, labels = scenes(2)

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pth"
    torch.save({"features.0.weight": Payload()}, path)
    with pytest.raises(VGGWeightsError, match="not a readable weights file"):
        Trainer(tiny_config(vgg_weights=path), ArrayDataset(images, labels, crop_size=32))


def test_saved_model_loads_in_the_library_and_fine_tunes(tmp_path):
    images, labels = scenes(4)
    data = ArrayDataset(images, labels, crop_size=32)
    config = tiny_config(vae=True)
    trainer = Trainer(config, data)
    trainer.train(2)
    folder = trainer.save_model(tmp_path / "tiny-model", name="Tiny", description="test")
    model = load_model(folder)
    assert model.card.label_set == "tiny" and model.card.has_encoder
    assert model.card.extra["training"]["steps"] == 2
    seg = trainer._batch(0).seg
    z = torch.zeros(seg.shape[0], 8)
    trainer.G.eval()
    with torch.no_grad():
        expected = trainer.G(seg, z).numpy()
        np.testing.assert_allclose(model.generator(seg, z).numpy(), expected, atol=1e-5)

    tuned = Trainer(config, data, init_model=folder)
    assert torch.equal(tuned.G.conv_img.weight, model.generator.conv_img.weight)
    assert torch.equal(tuned.E.fc_mu.weight, model.encoder.fc_mu.weight)
    assert "fine-tuned from tiny-model" in tuned.source
    other = tiny_config(vae=True)
    other.generator.ngf = 4
    with pytest.raises(ValueError, match="differ from this run"):
        Trainer(other, data, init_model=folder)


def test_dataset_size_must_match_the_generator():
    images, labels = scenes(2)
    with pytest.raises(DatasetError, match="32x32 crops but the generator is built for 64x64"):
        Trainer(tiny_config(size=64), ArrayDataset(images, labels, crop_size=32))


def test_batch_norm_on_a_one_cell_latent_needs_two_samples():
    images, labels = scenes(2)
    with pytest.raises(ValueError, match="batch of at least 2"):
        Trainer(tiny_config(batch_size=1), ArrayDataset(images, labels, crop_size=32))


def test_labels_outside_the_model_are_named():
    images, labels = scenes(2)
    labels[1, 0, 0] = 9
    trainer = Trainer(tiny_config(batch_size=2), ArrayDataset(images, labels, crop_size=32))
    with pytest.raises(DatasetError, match="sample 1: .*9"):
        trainer.train_step()


@pytest.mark.parametrize(("options", "g_passes", "dtype"), [
    ({}, 2, torch.float32),
    ({"fresh_fakes_for_d": False}, 1, torch.float32),
    ({"cpu_bf16": True}, 2, torch.bfloat16),
])
def test_speed_options_change_only_what_they_say(options, g_passes, dtype):
    images, labels = scenes(4)
    trainer = Trainer(tiny_config(**options), ArrayDataset(images, labels, crop_size=32))
    calls = []
    trainer.G.register_forward_hook(lambda *_: calls.append(1))
    losses, fake = trainer.train_step()
    assert len(calls) == g_passes
    assert fake.dtype == dtype
    assert all(np.isfinite(v) for v in losses.values())


def test_building_a_trainer_is_seeded_and_leaves_the_global_rng_alone():
    images, labels = scenes(2)
    before = torch.get_rng_state()
    a = Trainer(tiny_config(seed=5), ArrayDataset(images, labels, crop_size=32))
    assert torch.equal(torch.get_rng_state(), before)
    b = Trainer(tiny_config(seed=5), ArrayDataset(images, labels, crop_size=32))
    c = Trainer(tiny_config(seed=6), ArrayDataset(images, labels, crop_size=32))
    assert torch.equal(a.G.conv_img.weight, b.G.conv_img.weight)
    assert not torch.equal(a.G.conv_img.weight, c.G.conv_img.weight)


def test_moving_average_follows_the_live_weights_and_is_what_gets_exported(tmp_path):
    images, labels = scenes(6)
    data = ArrayDataset(images, labels, crop_size=32)
    trainer = Trainer(tiny_config(vae=True, ema_decay=0.8), data)
    G = trainer.G
    expected = {k: v.clone() for k, v in G.named_parameters()}
    for _ in range(5):
        trainer.train_step()
        for k, v in G.named_parameters():
            expected[k] = 0.8 * expected[k] + 0.2 * v.detach()
    averaged = dict(trainer.G_ema.named_parameters())
    for k, v in expected.items():
        assert torch.allclose(averaged[k], v, atol=1e-6), k
        assert not torch.equal(averaged[k], G.get_parameter(k))
    folder = trainer.save_model(tmp_path / "avg", name="Averaged")
    exported = load_model(folder).generator.state_dict()
    assert torch.equal(exported["conv_img.weight"], trainer.G_ema.conv_img.weight)
    with pytest.raises(ValueError, match="ema_decay"):
        tiny_config(ema_decay=1.0)


def test_refreshing_average_statistics_leaves_the_training_state_alone():
    images, labels = scenes(6)
    trainer = Trainer(tiny_config(vae=True, ema_decay=0.8), ArrayDataset(images, labels, crop_size=32))
    trainer.train(3)
    before = {k: v for k, v in state_of(trainer).items() if not k.startswith(("G_ema.", "E_ema."))}
    norm = trainer.G_ema.head_0.norm_0.param_free_norm
    stale = norm.running_mean.clone()
    trainer.refresh_average_statistics(batches=4)
    assert int(norm.num_batches_tracked) == 4 and norm.momentum == 0.1
    assert not torch.equal(norm.running_mean, stale)
    assert not trainer.G_ema.training
    after = state_of(trainer)
    assert all(torch.equal(after[k], v) for k, v in before.items())


def test_kl_weight_and_style_noise_warm_up_linearly_from_zero():
    images, labels = scenes(4)
    data = ArrayDataset(images, labels, crop_size=32)
    warm = Trainer(tiny_config(vae=True, kld_warmup=4), data)
    assert [warm.warmup(s) for s in range(6)] == pytest.approx([0.25, 0.5, 0.75, 1, 1, 1])
    constant = Trainer(tiny_config(vae=True), data)
    first_warm, _ = warm.train_step()
    first_constant, _ = constant.train_step()  # same weights, data and noise so far
    assert first_warm["G_KLD"] == pytest.approx(first_constant["G_KLD"] / 4, rel=1e-5)
    assert first_constant["G_KLD"] > 0
    with pytest.raises(ValueError, match="kld_warmup"):
        tiny_config(kld_warmup=-1)


def test_early_in_warm_up_the_style_code_is_the_encoders_mean():
    images, labels = scenes(4)
    data = ArrayDataset(images, labels, crop_size=32)
    long_warm = Trainer(tiny_config(vae=True, kld_warmup=10**9), data)
    constant = Trainer(tiny_config(vae=True), data)
    batch = constant._batch(0)
    with torch.no_grad():
        for trainer in (long_warm, constant):
            trainer.E.eval()  # no spectral-norm power iteration between the draws
            a, b = (trainer._style_code(batch, _StepRandom(0, 0), tag)[0] for tag in (0, 1))
            spread = float((a - b).abs().max())
            assert (spread < 1e-6) if trainer is long_warm else (spread > 0.5)


def test_style_gain_initialises_only_the_style_path():
    images, labels = scenes(4)
    data = ArrayDataset(images, labels, crop_size=32)
    official = Trainer(tiny_config(vae=True), data)
    strong = Trainer(tiny_config(vae=True, style_gain=1.0), data)
    ratio = strong.G.fc.weight.std() / official.G.fc.weight.std()
    assert 40 < ratio < 60  # Xavier: std proportional to the gain (1 / 0.02)
    assert 40 < strong.E.fc_mu.weight.std() / official.E.fc_mu.weight.std() < 60
    assert torch.equal(strong.E.fc_var.weight, official.E.fc_var.weight)
    assert torch.equal(strong.G.head_0.conv_0.weight_orig, official.G.head_0.conv_0.weight_orig)
