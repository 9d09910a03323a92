"""The scene generator: deterministic, held-out rule respected, captions name what is drawn."""
import hashlib
import json
import random
from pathlib import Path

import numpy as np

from tools.train import data


def test_same_seed_same_dataset_and_other_seed_differs():
    a, b, c = data.dataset(8, seed=3), data.dataset(8, seed=3), data.dataset(8, seed=4)
    h = lambda ds: hashlib.sha256(b"".join(e["image"].tobytes() + json.dumps(e["captions"]).encode() for e in ds)).hexdigest()
    assert h(a) == h(b)
    assert h(a) != h(c)


def test_training_scenes_never_contain_a_heldout_object():
    for e in data.dataset(400, seed=0, side=16):
        assert not any(data.is_heldout(o) for o in e["scene"]["objects"])


def test_heldout_file_is_what_the_generator_writes():
    path = Path(data.__file__).with_name("heldout.json")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(data.heldout(), ensure_ascii=False))
    for e in data.heldout():
        assert all(data.is_heldout(o) for o in e["scene"]["objects"])


def test_object_is_drawn_in_its_colour_in_its_cell():
    rng = random.Random(0)
    for pos, (col, row) in [(p, data.VOCAB["positions"][p]["cell"]) for p in data.POSITIONS]:
        scene = {"background": "white", "objects": [{"shape": "square", "color": "red", "size": "small", "position": pos}], "relation": None}
        img = data.render(scene, 48, rng).astype(int)
        red = np.abs(img - np.array(data.hex_rgb(data.VOCAB["colors"]["red"]["hex"]))).sum(-1) < 30
        ys, xs = np.nonzero(red)
        assert len(xs) > 20
        assert int(xs.mean() // 16) == col and int(ys.mean() // 16) == row


def test_captions_name_colour_shape_and_russian_keeps_blue_and_light_blue_apart():
    rng = random.Random(1)
    for color, word in [("blue", "син"), ("light_blue", "голуб")]:
        scene = {"background": "white", "objects": [{"shape": "circle", "color": color, "size": "large", "position": "left"}], "relation": None}
        caps = data.captions(scene, rng, 3, full=True)
        assert all(word in c for c in caps["ru"])
        assert all(("light blue" in c) == (color == "light_blue") for c in caps["en"])
        assert all("circle" in c for c in caps["en"]) and all("круг" in c for c in caps["ru"])


def test_relation_caption_uses_russian_cases():
    scene = {"background": "white", "objects": [
        {"shape": "circle", "color": "yellow", "size": "small", "position": "top"},
        {"shape": "square", "color": "blue", "size": "small", "position": "center"}],
        "relation": {"a": 0, "b": 1, "kind": "above"}}
    caps = data.captions(scene, random.Random(5), 6)
    assert any("над" in c and "синим квадратом" in c for c in caps["ru"])
    assert any("above a" in c for c in caps["en"])
