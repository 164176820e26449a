"""CancelWatch: a set flag stops forward and backward passes part-way, and nothing else."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from ml.cancel import CancelWatch, layers


class Stop(RuntimeError):
    pass


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(8, 8, 3), nn.Conv2d(8, 1, 3)
    )


def test_flag_set_during_backward_stops_before_the_earlier_layers_get_gradients():
    net, event = _net(), threading.Event()
    with CancelWatch(event, Stop, layers(net)):
        out = net(torch.randn(1, 3, 16, 16))
        out.register_hook(lambda g: event.set())  # the flag goes up as backward starts
        with pytest.raises(Stop):
            out.sum().backward()
    assert net[0].weight.grad is None and net[2].weight.grad is None


def test_flag_set_stops_the_next_watched_forward():
    net, event = _net(), threading.Event()
    seen = []
    net[2].register_forward_hook(lambda *_: seen.append("conv2"))
    net[0].register_forward_hook(lambda *_: event.set())
    with CancelWatch(event, Stop, layers(net)), pytest.raises(Stop), torch.no_grad():
        net(torch.randn(1, 3, 16, 16))
    assert seen == []


def test_without_a_flag_the_work_is_unchanged_and_nothing_stays_hooked():
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    plain = _net()
    (gx_plain,) = torch.autograd.grad(plain(x).square().sum(), x, create_graph=True)
    gx_plain.sum().backward()
    watched, event = _net(), threading.Event()
    with CancelWatch(event, Stop, layers(watched)):
        (gx,) = torch.autograd.grad(watched(x).square().sum(), x, create_graph=True)
        gx.sum().backward()
    assert torch.equal(gx, gx_plain)
    for a, b in zip(plain.parameters(), watched.parameters(), strict=True):
        assert torch.equal(a.grad, b.grad)
    event.set()
    watched(x).sum().backward()  # the watch is gone: a set flag no longer stops anything
    with CancelWatch(None, Stop, layers(watched)):
        watched(x).sum().backward()


def test_other_threads_autograd_is_not_watched():
    event = threading.Event()
    event.set()
    errors = []

    def other_thread():
        try:
            net = nn.Linear(4, 1)  # not among the watched modules
            net(torch.randn(2, 4)).sum().backward()
        except Exception as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    with CancelWatch(event, Stop, layers(_net())):
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert errors == []
