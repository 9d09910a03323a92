"""The training recipe's helpers: CLIP's auxiliary attribute targets and the weight average."""
import torch

from tools.train import data
from tools.train.train import ATTRIBUTE_GROUPS, _EMA, attribute_targets


def test_attribute_targets_mark_each_object_in_its_cell_and_nothing_else():
    scene = {"background": "cream", "relation": None, "objects": [
        {"shape": "circle", "color": "red", "size": "large", "position": "top-left"},
        {"shape": "line", "color": "blue", "size": "small", "position": "bottom-right"}]}
    bg, hot = attribute_targets([scene])
    assert bg.tolist() == [data.BACKGROUNDS.index("cream")]
    n_pos = len(data.POSITIONS)
    expected, base = set(), 0
    for key, values in ATTRIBUTE_GROUPS:
        for o in scene["objects"]:
            v = 0 if key == "position" else values.index(o[key])
            expected.add(base + v * n_pos + data.POSITIONS.index(o["position"]))
        base += len(values) * n_pos
    assert hot.shape == (1, base)
    assert set(torch.nonzero(hot[0]).flatten().tolist()) == expected  # 4 groups x 2 objects
    assert len(expected) == 8


def test_ema_warms_up_then_averages_and_off_keeps_the_last_weights():
    m = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        m.weight.fill_(0.0)
    avg = _EMA(m, 0.5)
    with torch.no_grad():
        m.weight.fill_(1.0)
    avg.update(m)  # warm-up: d = min(0.5, 1/10) = 0.1 -> 0.1 * 0 + 0.9 * 1
    assert torch.allclose(avg.shadow["weight"], torch.tensor([[0.9]]))
    for _ in range(30):
        avg.update(m)  # d reaches 0.5; the average approaches the constant weight
    assert abs(avg.shadow["weight"].item() - 1.0) < 1e-6
    with torch.no_grad():
        m.weight.fill_(3.0)
    avg.update(m)
    assert torch.allclose(avg.apply(m).weight, torch.tensor([[2.0]]))  # 0.5 * 1 + 0.5 * 3
    off = _EMA(m, 0.0)
    with torch.no_grad():
        m.weight.fill_(7.0)
    off.update(m)
    assert off.apply(m).weight.item() == 7.0
