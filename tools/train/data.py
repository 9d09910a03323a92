"""Seeded generator of Kandinsky-like compositions and their captions (issue 11).

A scene is a record in the shared vocabulary (`vocabulary.json`): a background colour and one or
two objects (shape, colour, size, position in a 3x3 grid), optionally a relation between them.
The same record yields the picture (numpy/Pillow, 4x supersampled, hence anti-aliased) and
captions in English and Russian with paraphrases. Everything is a pure function of the seed.

Held-out rule (`HELDOUT_RULE`): an object whose (colour, shape, position) triple satisfies
`(3*colour + 5*shape + position) % 11 == 0` (indices in vocabulary order) is never trained on,
in any scene. Every colour, shape and position is still seen in training, each with most of
the others, so the held-out captions test recombination, not new words.
`python -m tools.train.data --heldout tools/train/heldout.json` writes that split.
"""
from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

VOCAB_PATH = Path(__file__).with_name("vocabulary.json")
VOCAB = json.loads(VOCAB_PATH.read_text(encoding="utf-8"))
COLORS = list(VOCAB["colors"])
BACKGROUNDS = list(VOCAB["backgrounds"])
SHAPES = list(VOCAB["shapes"])
SIZES = list(VOCAB["sizes"])
POSITIONS = list(VOCAB["positions"])
RELATIONS = list(VOCAB["relations"])
HELDOUT_RULE = "(3*colour_index + 5*shape_index + position_index) % 11 == 0, indices in vocabulary.json order"
SUPERSAMPLE = 4

# Pairs (object colour, background) too close to tell apart; never generated.
_LOW_CONTRAST = {("white", "white"), ("white", "cream"), ("black", "black"), ("yellow", "yellow"),
                 ("light_blue", "light_blue"), ("pink", "pink"), ("orange", "yellow"), ("yellow", "cream")}


def is_heldout(obj: dict) -> bool:
    """The held-out rule on one object (see module doc)."""
    c, s, p = COLORS.index(obj["color"]), SHAPES.index(obj["shape"]), POSITIONS.index(obj["position"])
    return (3 * c + 5 * s + p) % 11 == 0


def hex_rgb(h: str) -> tuple[int, int, int]:
    return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))


def _color_ok(color: str, background: str) -> bool:
    return color != background and (color, background) not in _LOW_CONTRAST


# ------------------------------------------------------------------ scenes


def _object(rng: random.Random, background: str, position: str, heldout: bool | None) -> dict | None:
    for _ in range(200):
        o = {"shape": rng.choice(SHAPES), "color": rng.choice(COLORS), "size": rng.choice(SIZES), "position": position}
        if not _color_ok(o["color"], background):
            continue
        if heldout is not None and is_heldout(o) != heldout:
            continue
        return o
    return None


def _relation(a: dict, b: dict) -> str | None:
    (ca, ra), (cb, rb) = (VOCAB["positions"][a["position"]]["cell"], VOCAB["positions"][b["position"]]["cell"])
    if ca == cb and ra < rb:
        return "above"
    if ca == cb and ra > rb:
        return "below"
    if ra == rb and ca < cb:
        return "left_of"
    if ra == rb and ca > cb:
        return "right_of"
    return None


def sample_scene(rng: random.Random, heldout: bool = False, two_prob: float = 0.35) -> dict:
    """One scene record. heldout=False never contains a held-out object; True: exactly its first object is one."""
    while True:
        bg = rng.choice(BACKGROUNDS)
        if rng.random() >= two_prob:
            o = _object(rng, bg, rng.choice(POSITIONS), heldout)
            if o is not None:
                return {"background": bg, "objects": [o], "relation": None}
            continue
        pa, pb = rng.sample(POSITIONS, 2)
        a = _object(rng, bg, pa, heldout)
        b = _object(rng, bg, pb, False)
        if a is None or b is None:
            continue
        # Two large objects in neighbouring cells would overlap: shrink the second.
        if a["size"] == "large" and b["size"] == "large":
            b["size"] = "medium"
        kind = _relation(a, b)
        rel = {"a": 0, "b": 1, "kind": kind} if kind is not None and rng.random() < 0.6 else None
        return {"background": bg, "objects": [a, b], "relation": rel}


# ------------------------------------------------------------------ captions

_EN_COLOR = {c: VOCAB.get("color_en", {}).get(c, c.replace("_", " ")) for c in COLORS + BACKGROUNDS}
_EN_POS = {
    "top-left": ["in the top left", "in the upper left corner", "top left"],
    "top": ["at the top", "at the top of the picture", "at the top edge"],
    "top-right": ["in the top right", "in the upper right corner", "top right"],
    "left": ["on the left", "at the left side", "in the left part"],
    "center": ["in the center", "in the middle", "at the centre"],
    "right": ["on the right", "at the right side", "in the right part"],
    "bottom-left": ["in the bottom left", "in the lower left corner", "bottom left"],
    "bottom": ["at the bottom", "at the bottom of the picture", "at the bottom edge"],
    "bottom-right": ["in the bottom right", "in the lower right corner", "bottom right"],
}
_RU_POS = {
    "top-left": ["слева сверху", "в левом верхнем углу"],
    "top": ["сверху", "вверху"],
    "top-right": ["справа сверху", "в правом верхнем углу"],
    "left": ["слева", "в левой части"],
    "center": ["в центре", "посередине"],
    "right": ["справа", "в правой части"],
    "bottom-left": ["слева снизу", "в левом нижнем углу"],
    "bottom": ["снизу", "внизу"],
    "bottom-right": ["справа снизу", "в правом нижнем углу"],
}
# Russian adjective forms the captions need: (nominative m, f, n) are in vocabulary.json;
# genitive and instrumental (for "слева от" / "над") and prepositional m ("на белом фоне") here.
_RU_ADJ_CASES = {  # word: (gen m/n, gen f, ins m/n, ins f, prep m)
    "red": ("красного", "красной", "красным", "красной", "красном"),
    "orange": ("оранжевого", "оранжевой", "оранжевым", "оранжевой", "оранжевом"),
    "yellow": ("жёлтого", "жёлтой", "жёлтым", "жёлтой", "жёлтом"),
    "green": ("зелёного", "зелёной", "зелёным", "зелёной", "зелёном"),
    "blue": ("синего", "синей", "синим", "синей", "синем"),
    "light_blue": ("голубого", "голубой", "голубым", "голубой", "голубом"),
    "purple": ("фиолетового", "фиолетовой", "фиолетовым", "фиолетовой", "фиолетовом"),
    "pink": ("розового", "розовой", "розовым", "розовой", "розовом"),
    "black": ("чёрного", "чёрной", "чёрным", "чёрной", "чёрном"),
    "white": ("белого", "белой", "белым", "белой", "белом"),
    "cream": ("кремового", "кремовой", "кремовым", "кремовой", "кремовом"),
    "small": ("маленького", "маленькой", "маленьким", "маленькой", "маленьком"),
    "medium": ("среднего", "средней", "средним", "средней", "среднем"),
    "large": ("большого", "большой", "большим", "большой", "большом"),
}
_RU_NOUN_CASES = {  # shape: (genitive, instrumental)
    "circle": ("круга", "кругом"), "ring": ("кольца", "кольцом"), "square": ("квадрата", "квадратом"),
    "triangle": ("треугольника", "треугольником"), "line": ("линии", "линией"), "arc": ("дуги", "дугой"),
}


def _ru_adj(kind: str, word: str, gender: str, case: str = "nom") -> str:
    if case == "nom":
        table = VOCAB["colors"].get(word) or VOCAB["backgrounds"].get(word) if kind == "color" else VOCAB["sizes"][word]
        return table["ru"][gender]
    g, gf, i, i_f, prep = _RU_ADJ_CASES[word]
    return {"gen": gf if gender == "f" else g, "ins": i_f if gender == "f" else i, "prep": prep}[case]


def _en_np(o: dict, with_size: bool) -> str:
    words = ([o["size"]] if with_size else []) + [_EN_COLOR[o["color"]], o["shape"]]
    return " ".join(words)


def _ru_np(o: dict, with_size: bool, case: str = "nom") -> str:
    gender = VOCAB["shapes"][o["shape"]]["gender"]
    words = [_ru_adj("size", o["size"], gender, case)] if with_size else []
    words.append(_ru_adj("color", o["color"], gender, case))
    noun = VOCAB["shapes"][o["shape"]]["ru"] if case == "nom" else _RU_NOUN_CASES[o["shape"]][0 if case == "gen" else 1]
    return " ".join(words + [noun])


def _article(np_: str) -> str:
    return ("an " if np_[0] in "aeiou" else "a ") + np_


def captions(scene: dict, rng: random.Random, n: int = 3, full: bool = False) -> dict:
    """n English and n Russian paraphrases of the scene. full=True: every one names every attribute."""
    bg = scene["background"]
    en_bg, ru_bg = _EN_COLOR[bg], _ru_adj("color", bg, "m", "prep")
    out = {"en": [], "ru": []}
    objs, rel = scene["objects"], scene["relation"]
    tries = 0
    while (len(out["en"]) < n or len(out["ru"]) < n) and tries < 50:
        tries += 1
        size = full or rng.random() < 0.7
        with_bg = full or rng.random() < 0.6
        pi = rng.randrange(3)
        if rel is not None and not full and rng.random() < 0.7:
            a, b = objs[rel["a"]], objs[rel["b"]]
            en = f"{_article(_en_np(a, size))} {VOCAB['relations'][rel['kind']]['en']} {_article(_en_np(b, size))}"
            case = "ins" if rel["kind"] in ("above", "below") else "gen"
            ru = f"{_ru_np(a, size)} {VOCAB['relations'][rel['kind']]['ru']} {_ru_np(b, size, case)}"
        else:
            en_parts = [f"{_article(_en_np(o, size))} {_EN_POS[o['position']][pi % 3]}" for o in objs]
            ru_parts = [f"{_ru_np(o, size)} {_RU_POS[o['position']][pi % 2]}" for o in objs]
            en, ru = " and ".join(en_parts), " и ".join(ru_parts)
            if len(objs) == 1 and pi == 2 and not full:
                o = objs[0]
                en = f"{_EN_POS[o['position']][0]}, {_article(_en_np(o, size))}"
                ru = f"{_RU_POS[o['position']][0]} {_ru_np(o, size)}"
        if with_bg:
            en += rng.choice([f" on a {en_bg} background", f", {en_bg} background"])
            ru += f" на {ru_bg} фоне"
        if en not in out["en"] and len(out["en"]) < n:
            out["en"].append(en)
        if ru not in out["ru"] and len(out["ru"]) < n:
            out["ru"].append(ru)
    return out


# ------------------------------------------------------------------ rendering


def _geometry(o: dict, rng: random.Random) -> tuple[float, float, float]:
    """(cx, cy, extent) in units of the image side; the centre stays in its grid cell."""
    s = VOCAB["sizes"][o["size"]]["fraction"]
    col, row = VOCAB["positions"][o["position"]]["cell"]
    lo, hi = s / 2 + 0.02, 1 - s / 2 - 0.02

    def coord(cell: int) -> float:
        c = (cell + 0.5) / 3 + rng.uniform(-0.04, 0.04)
        c = min(max(c, lo), hi)
        # keep the centre inside its third of the image
        return min(max(c, cell / 3 + 0.02), (cell + 1) / 3 - 0.02)

    return coord(col), coord(row), s


def render(scene: dict, side: int, rng: random.Random) -> np.ndarray:
    """The scene as an (side, side, 3) uint8 array, anti-aliased by 4x supersampling."""
    big = side * SUPERSAMPLE
    img = Image.new("RGB", (big, big), hex_rgb(VOCAB["backgrounds"][scene["background"]]["hex"]))
    d = ImageDraw.Draw(img)
    for o in scene["objects"]:
        cx, cy, s = _geometry(o, rng)
        cx, cy, r = cx * big, cy * big, s * big / 2
        col = hex_rgb(VOCAB["colors"][o["color"]]["hex"])
        w = max(2 * SUPERSAMPLE, int(round(r * 0.36)))
        shape = o["shape"]
        if shape == "circle":
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
        elif shape == "ring":
            d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=col, width=w)
        elif shape == "square":
            h = r * 0.85
            d.rectangle([cx - h, cy - h, cx + h, cy + h], fill=col)
        elif shape == "triangle":
            pts = [(cx + r * math.cos(a), cy + r * 0.1 + r * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
            d.polygon(pts, fill=col)
        elif shape == "line":
            a = rng.choice([0.0, math.pi / 4, math.pi / 2, 3 * math.pi / 4]) + rng.uniform(-0.2, 0.2)
            dx, dy = r * math.cos(a), r * math.sin(a)
            d.line([cx - dx, cy - dy, cx + dx, cy + dy], fill=col, width=max(w * 2 // 3, 2 * SUPERSAMPLE))
        elif shape == "arc":
            start = rng.choice([0, 90, 180, 270]) + rng.uniform(-15, 15)
            d.arc([cx - r, cy - r, cx + r, cy + r], start, start + 180, fill=col, width=w)
        else:
            raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")
    return np.asarray(img.resize((side, side), Image.Resampling.BOX), dtype=np.uint8)


# ------------------------------------------------------------------ datasets


def dataset(n: int, seed: int, side: int = 64, n_captions: int = 3) -> list[dict]:
    """n training examples {scene, captions, image}; a pure function of (n, seed, side)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        scene = sample_scene(rng)
        out.append({"scene": scene, "captions": captions(scene, rng, n_captions), "image": render(scene, side, rng)})
    return out


def heldout(seed: int = 1234, per_triple: int = 2) -> list[dict]:
    """The held-out split: single-object scenes, one per held-out triple and per_triple backgrounds/sizes."""
    rng = random.Random(seed)
    out = []
    for ci, c in enumerate(COLORS):
        for si, s in enumerate(SHAPES):
            for p in POSITIONS:
                o = {"shape": s, "color": c, "size": "large", "position": p}
                if not is_heldout(o):
                    continue
                bgs = [b for b in BACKGROUNDS if _color_ok(c, b)]
                for k in range(per_triple):
                    scene = {"background": rng.choice(bgs),
                             "objects": [{**o, "size": rng.choice(["medium", "large"])}], "relation": None}
                    out.append({"id": f"{c}-{s}-{p}-{k}", "scene": scene, "captions": captions(scene, rng, 2, full=True)})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.train.data", description=__doc__.splitlines()[0])
    p.add_argument("--heldout", type=Path, help="write the held-out split here")
    p.add_argument("--preview", type=Path, help="write a PNG grid of 16 training scenes and print their captions")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if a.heldout:
        data = heldout()
        a.heldout.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(data)} held-out scenes to {a.heldout} (rule: {HELDOUT_RULE})")
    if a.preview:
        ds = dataset(16, a.seed)
        grid = np.concatenate([np.concatenate([e["image"] for e in ds[r * 4:(r + 1) * 4]], 1) for r in range(4)], 0)
        Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.Resampling.NEAREST).save(a.preview)
        for e in ds:
            print(e["captions"]["en"][0], "|", e["captions"]["ru"][0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
