"""A small XLM-RoBERTa-style Unigram tokenizer, trained locally (no hub access) for the tiny 2.1 checkpoints.

Kandinsky 2.1's M-CLIP text encoder uses xlm-roberta-large's SentencePiece Unigram tokenizer (250,002
pieces). The tiny checkpoints need the same *kind* of tokenizer at toy size: a Unigram model trained
deterministically on `data/xlmr_corpus.txt` (English, Russian and mixed prompts), with XLM-R's layout:

- ids: `<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3, the pieces, `<mask>` last;
- pre-tokenizer `WhitespaceSplit` + `Metaspace("▁", prepend_scheme "always")`, no normalizer, decoder
  `Metaspace`, post-processor `<s> $A </s>` (pair `<s> $A </s> </s> $B </s>`).

Why no `NFKC`/`Replace(" {2,}")` normalizer: the reference does not run one. transformers 5's
`XLMRobertaTokenizer(Fast)` rebuilds its backend from tokenizer.json's vocabulary and keeps only a
`Precompiled` char map of the file's normalizer (SentencePiece's nmt_nfkc table, which cannot be built
here without sentencepiece); the file's `Replace` is dropped and the pre-tokenizer becomes `WhitespaceSplit` +
`Metaspace` (transformers/models/xlm_roberta/tokenization_xlm_roberta.py, `__init__`;
tokenization_utils_tokenizers.py keeps `_spm_precompiled_charsmap` only). This file is written in exactly
that form, so loading it through `XLMRobertaTokenizerFast` and saving the backend gives it back unchanged
(tests check), and the bundle's copy is what diffusers' KandinskyPipeline really tokenises with. The
real xlm-roberta-large exported the same way carries `Precompiled` + `WhitespaceSplit` + `Metaspace`
(no regex; `@huggingface/tokenizers` implements all three). Training itself normalises with NFKC.

`python -m tools.export.xlmr_tokenizer OUT.json` writes it; `build()` returns the JSON text, the
same bytes on every run (tests/test_k21.py checks this against the committed copy).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "data" / "xlmr_corpus.txt"
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
MASK = "<mask>"
VOCAB_SIZE = 1000


def build(corpus: Path = CORPUS, vocab_size: int = VOCAB_SIZE) -> str:
    """The tokenizer.json text (pretty-printed, keys in the library's order)."""
    os.environ.setdefault("RAYON_NUM_THREADS", "1")  # one thread: the EM sums in a fixed order
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
    from tokenizers.models import Unigram

    tok = Tokenizer(Unigram())
    tok.normalizer = normalizers.NFKC()  # training only (see above)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size - 1, special_tokens=list(SPECIALS), unk_token="<unk>",
                                      show_progress=False, shrinking_factor=0.75, max_piece_length=16,
                                      n_sub_iterations=2)
    lines = [x for x in corpus.read_text(encoding="utf-8").splitlines() if x.strip()]
    tok.train_from_iterator(lines, trainer=trainer)
    # The trainer's EM sums scores in hash-map order, so the last digits differ between runs. Round them
    # (1e-6 is far below the gaps that decide a segmentation), order pieces by (score, piece) after the
    # specials, and rebuild the model from that list: the same file on every run.
    trained = json.loads(tok.to_str())["model"]["vocab"]
    pieces = [(p, round(s, 6)) for p, s in trained if p not in SPECIALS]
    # Pieces the trainer keeps only to cover the alphabet come last, 1e-4 apart, in hash-map order (seen:
    # ~10 single characters and a word, within 1e-3 of the lowest score): give everything within 0.01 of
    # the lowest score those spaced scores in piece order instead.
    low = min(s for _, s in pieces)
    tail = sorted(p for p, s in pieces if s < low + 0.01)
    top = max(s for p, s in pieces if s < low + 0.01)
    fixed = {p: round(top - 1e-4 * i, 6) for i, p in enumerate(tail)}
    pieces = sorted(((p, fixed.get(p, s)) for p, s in pieces), key=lambda x: (-x[1], x[0]))
    tok.model = Unigram([(p, 0.0) for p in SPECIALS] + pieces, unk_id=SPECIALS.index("<unk>"), byte_fallback=False)
    tok.normalizer = None
    tok.add_special_tokens([AddedToken(MASK, lstrip=True, special=True)])  # XLM-R's <mask> strips the space before it
    ids = {t: tok.token_to_id(t) for t in (*SPECIALS, MASK)}
    if [ids[t] for t in SPECIALS] != [0, 1, 2, 3] or ids[MASK] != tok.get_vocab_size() - 1:
        raise RuntimeError(f"special token ids {ids} are not XLM-R's layout")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return json.dumps(json.loads(tok.to_str()), indent=2, ensure_ascii=False) + "\n"


def fast_tokenizer(tokenizer_json: Path, max_length: int = 77):
    """The tokenizer as transformers' XLMRobertaTokenizerFast (what KandinskyPipeline's `tokenizer` is)."""
    from transformers import XLMRobertaTokenizerFast

    return XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_json), bos_token="<s>", eos_token="</s>",
                                   sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
                                   mask_token=MASK, model_max_length=max_length)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m tools.export.xlmr_tokenizer OUT.json")
    text = build()
    Path(argv[0]).write_text(text, encoding="utf-8")
    print(f"wrote {argv[0]} ({len(json.loads(text)['model']['vocab'])} pieces + added tokens)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
