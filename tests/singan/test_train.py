"""Training as a job: progress reports, determinism, cancel + resume, retraining scales."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from ml.singan.model import SinGANModel
from ml.singan.networks import ScaleCritic
from ml.singan.presets import FAST, PAPER, PREVIEW, TrainConfig, get_preset
from ml.singan.train import TrainingCancelled, checkpoint_paths, retrain_scales, train

torch.set_num_threads(1)  # tiny convs: one thread is fastest on a busy 2-core machine
TINY = TrainConfig(name="tiny", min_size=12, max_size=44, nfc=8, nfc_max=8, iterations=4)


def _config_of(path) -> TrainConfig:
    return TrainConfig.from_dict(SinGANModel.load(path).meta["config"])


def _sample(model: SinGANModel, seed: int = 5) -> torch.Tensor:
    return model.generate(generator=torch.Generator().manual_seed(seed))


def test_end_to_end_reports_every_iteration_and_a_preview_per_scale(tiny_image, tmp_path):
    records = []
    out = tmp_path / "m.safetensors"
    model = train(tiny_image, TINY, out=out, device="cpu", seed=0, callback=records.append)
    n = model.num_scales
    assert n >= 4 and len(records) == n * TINY.iterations
    assert [(r.scale, r.iteration) for r in records[: TINY.iterations]] == [
        (0, i) for i in range(1, TINY.iterations + 1)
    ]
    finals = [r for r in records if r.iteration == r.iterations]
    assert [r.scale for r in finals] == list(range(n))
    for r in finals:
        assert r.preview is not None and r.preview.dtype == np.uint8
        assert r.preview.shape == (*model.sizes[r.scale], 3)
    assert all(r.preview is None for r in records if r.iteration < r.iterations)
    assert set(records[-1].losses) == {"d_real", "d_fake", "gp", "g_adv", "rec"}
    assert records[-1].eta_seconds == pytest.approx(0.0, abs=1e-6)
    assert records[-1].elapsed_seconds > 0
    assert out.is_file() and not any(p.exists() for p in checkpoint_paths(out))
    loaded = SinGANModel.load(out)
    assert loaded.num_scales == n and loaded.meta["config"]["iterations"] == TINY.iterations
    assert loaded.noise_amps[0] == 1.0 and all(0 < a < 1 for a in loaded.noise_amps[1:])


def test_same_seed_same_model_other_seed_other_model(tiny_image, tiny_model_path):
    config = _config_of(tiny_model_path)  # trained by the conftest with seed 0
    torch.manual_seed(123)
    expected_global = torch.rand(3)
    torch.manual_seed(123)
    again = train(tiny_image, config, device="cpu", seed=0)
    assert torch.equal(torch.rand(3), expected_global)  # torch's global RNG is left alone
    other = train(tiny_image, config, device="cpu", seed=1)
    whole = SinGANModel.load(tiny_model_path)
    assert torch.equal(_sample(again), _sample(whole))
    assert not torch.equal(_sample(other), _sample(whole))


def test_cancel_then_resume_continues_from_the_last_finished_scale(
    tiny_image, tiny_model_path, tmp_path
):
    out = tmp_path / "r.safetensors"
    config = _config_of(tiny_model_path)  # the conftest's uninterrupted run
    cancel = threading.Event()
    first_run = []

    def stop_in_scale_3(p):
        first_run.append((p.scale, p.iteration))
        if p.scale == 3 and p.iteration == 2:
            cancel.set()

    with pytest.raises(TrainingCancelled):
        train(tiny_image, config, out=out, device="cpu", callback=stop_in_scale_3, cancel=cancel)
    # Cancelled inside scale 3's next iteration: nothing after it ran.
    assert first_run[-1] == (3, 2)
    partial, state = checkpoint_paths(out)
    assert not out.exists() and partial.is_file()
    assert json.loads(state.read_text())["finished_scales"] == 3

    second_run = []
    model = train(tiny_image, config, out=out, device="cpu", callback=second_run.append)
    assert sorted({p.scale for p in second_run}) == list(range(3, model.num_scales))
    # The resumed model is exactly the model of the uninterrupted run (same seed).
    whole = SinGANModel.load(tiny_model_path)
    assert model.num_scales == whole.num_scales
    assert torch.equal(_sample(model), _sample(whole))
    assert not partial.exists() and not state.exists()


def test_resume_ignores_a_checkpoint_of_other_settings(tiny_image, tmp_path):
    out = tmp_path / "x.safetensors"
    cancel = threading.Event()
    with pytest.raises(TrainingCancelled):
        train(
            tiny_image,
            TINY,
            out=out,
            device="cpu",
            callback=lambda p: cancel.set() if p.scale == 1 else None,
            cancel=cancel,
        )
    seen = []
    train(tiny_image, TINY, out=out, device="cpu", seed=1, callback=seen.append)
    assert seen[0].scale == 0  # another seed: started over


def test_cancel_before_start_saves_nothing(tiny_image, tmp_path):
    cancel = threading.Event()
    cancel.set()
    out = tmp_path / "c.safetensors"
    with pytest.raises(TrainingCancelled):
        train(tiny_image, TINY, out=out, device="cpu", cancel=cancel)
    assert not out.exists() and not checkpoint_paths(out)[0].exists()


def test_concurrent_training_updates_the_scale_below_at_a_lower_rate(tiny_image, tmp_path):
    cfg = replace(TINY, concurrent=2, name="tiny-concurrent")
    out = tmp_path / "cc.safetensors"
    weights = {}

    def snap(p):  # the checkpoint of a scale is written just before its final report
        if p.iteration == p.iterations:
            weights[p.scale] = SinGANModel.load(checkpoint_paths(out)[0]).generators

    train(tiny_image, cfg, out=out, device="cpu", callback=snap)
    after2, after3 = weights[2], weights[3]
    assert len(after2) == 3 and len(after3) == 4
    w = after2[2].head.conv.weight
    assert not torch.equal(w, after3[2].head.conv.weight)  # scale 2 trained on with scale 3
    assert torch.equal(after2[1].head.conv.weight, after3[1].head.conv.weight)  # frozen


def test_retrain_scales_changes_only_those_scales(tiny_model, tiny_image):
    before = _sample(tiny_model)
    top = tiny_model.num_scales - 1
    target = np.ascontiguousarray(tiny_image[::-1])
    seen = []
    new = retrain_scales(tiny_model, target, [top], iterations=3, callback=seen.append)
    assert {p.scale for p in seen} == {top}
    for n in range(top):
        assert torch.equal(
            new.generators[n].head.conv.weight, tiny_model.generators[n].head.conv.weight
        )
    assert not torch.equal(
        new.generators[top].head.conv.weight, tiny_model.generators[top].head.conv.weight
    )
    assert torch.equal(_sample(tiny_model), before)  # the input model is untouched
    assert new.meta["retrained_scales"] == [top]
    flipped = torch.from_numpy(target.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)
    assert torch.allclose(new.reals[top][0], flipped, atol=1e-5)


def test_retrain_with_prev_transform_and_fresh_networks(tiny_model, tiny_image):
    seen_prevs = []

    def quantize(prev):
        seen_prevs.append(prev.shape)
        return (prev > 0).float() * 2 - 1

    new = retrain_scales(
        tiny_model, tiny_image, [2], iterations=2, prev_transform=quantize, fresh=True
    )
    assert seen_prevs and all(s[2:] == tiny_model.reals[2].shape[2:] for s in seen_prevs)
    assert new.noise_amps[2] != tiny_model.noise_amps[2]  # recomputed for the fresh scale
    with pytest.raises(ValueError, match="out of range"):
        retrain_scales(tiny_model, tiny_image, [tiny_model.num_scales], iterations=1)


def test_presets():
    assert get_preset("paper") is PAPER and get_preset(PREVIEW) is PREVIEW
    with pytest.raises(ValueError, match="unknown SinGAN preset 'nope'"):
        get_preset("nope")
    assert [PAPER.net(n).nfc for n in (0, 3, 4, 7, 8, 12)] == [32, 32, 64, 64, 128, 128]
    assert (PAPER.min_size, PAPER.max_size, PAPER.scale_factor) == (25, 250, 0.75)
    assert (PAPER.iterations, PAPER.decay_at, PAPER.d_steps, PAPER.g_steps) == (2000, 0.8, 3, 3)
    assert (PAPER.gp_weight, PAPER.alpha, PAPER.noise_amp, PAPER.lr_g) == (0.1, 10.0, 0.1, 5e-4)
    assert FAST.concurrent == 2 and FAST.pyramid == "dense" and FAST.net(12).nfc == 32
    assert PAPER.with_overrides(max_size=128, iterations=10).max_size == 128
    with pytest.raises(ValueError, match="max_size"):
        PAPER.with_overrides(max_size=20)
    assert TrainConfig.from_dict(FAST.to_dict()) == FAST


def test_noise_amplitudes_follow_the_official_rule(tiny_model):
    # One scale at a time, lower scales are frozen: the reconstruction each scale started
    # from is still the model's, so amp_n = 0.1 x RMSE(real_n, upsampled reconstruction).
    assert tiny_model.noise_amps[0] == 1.0
    for n in range(1, tiny_model.num_scales):
        with torch.no_grad():
            rec = tiny_model.upsample(tiny_model._reconstruct_to(n - 1), tiny_model.sizes[n])
        rmse = torch.sqrt(torch.mean((rec - tiny_model.reals[n]) ** 2))
        assert tiny_model.noise_amps[n] == pytest.approx(0.1 * float(rmse), rel=1e-5)


def test_cancel_from_another_thread_stops_at_the_next_step(tiny_image, tmp_path):
    cancel = threading.Event()
    started = threading.Event()
    reports_after_cancel = []
    outcome = []

    def report(p):
        started.set()
        if cancel.is_set():
            reports_after_cancel.append(p.iteration)

    def run():
        try:
            train(
                tiny_image,
                replace(TINY, iterations=100_000),
                out=tmp_path / "t.safetensors",
                device="cpu",
                callback=report,
                cancel=cancel,
            )
        except TrainingCancelled:
            outcome.append("cancelled")

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(60)
    cancel.set()
    worker.join(60)
    assert outcome == ["cancelled"]
    # Checked before every critic and generator step: at most the iteration in flight ends.
    assert len(reports_after_cancel) <= 1


def test_cancel_during_a_backward_pass_stops_before_the_update(tiny_image, tmp_path):
    cancel = threading.Event()
    calls = []
    snapshot = {}

    def on_forward(module, _inputs, output):
        if not isinstance(module, ScaleCritic):
            return
        calls.append(cancel.is_set())
        if len(calls) == 13:  # iteration 2's first critic step: D(real)
            snapshot["critic"] = module
            snapshot["weights"] = [p.detach().clone() for p in module.parameters()]
            output.register_hook(lambda g: cancel.set())  # raised mid-backward

    handle = torch.nn.modules.module.register_module_forward_hook(on_forward)
    try:
        with pytest.raises(TrainingCancelled):
            train(tiny_image, TINY, out=tmp_path / "b.safetensors", device="cpu", cancel=cancel)
    finally:
        handle.remove()
    assert len(calls) == 15 and not any(calls)  # D(real), D(fake), D(mix); nothing after
    # The critic step whose backward was interrupted never reached its optimizer update.
    after = list(snapshot["critic"].parameters())
    assert all(torch.equal(a, b) for a, b in zip(after, snapshot["weights"], strict=True))
