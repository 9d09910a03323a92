"""Writes xlmr-tiny/tokenizer.json (+ config) and xlmr-tiny-cases.json: a toy Unigram tokenizer with XLM-R's
pipeline (Replace " {2,}", Metaspace, <s> $A </s>, ids <s>=0 <pad>=1 </s>=2 <unk>=3) and the ids that
transformers' XLMRobertaTokenizerFast gives it with padding="max_length", truncation=True, max_length=77
(as diffusers' KandinskyPipeline._encode_prompt calls it). The real XLM-R file adds a Precompiled (NFKC)
normalizer first, which this toy leaves out. Run: .venv/bin/python workers/tokenizer/testdata/make_xlmr_tiny.py"""
import json, os
from tokenizers import Tokenizer, Regex, models, normalizers, pre_tokenizers, processors, decoders, AddedToken
from transformers import XLMRobertaTokenizerFast

here = os.path.dirname(os.path.abspath(__file__))
specials = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
words = ["▁a", "▁red", "▁cat", "▁dog", "▁on", "▁the", "▁moon", "▁кот", "▁красный", "▁на", "▁луне", "▁", "s", "ing"]
letters = list("abcdefghijklmnopqrstuvwxyzабвгдеёжзийклмнопрстуфхцчшщъыьэюя,.!?0123456789")
vocab = specials + [(w, -2.0 - i * 0.01) for i, w in enumerate(words)] + [(c, -8.0) for c in letters]
tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
tok.normalizer = normalizers.Sequence([normalizers.Replace(Regex(" {2,}"), " ")])
tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
tok.post_processor = processors.TemplateProcessing(
    single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
tok.add_special_tokens([AddedToken(t, special=True) for t, _ in specials])

fast = XLMRobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                               cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<unk>")
out = os.path.join(here, "xlmr-tiny")
os.makedirs(out, exist_ok=True)
tok.save(os.path.join(out, "tokenizer.json"))
with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
    json.dump({"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>",
               "model_max_length": 512, "tokenizer_class": "XLMRobertaTokenizer"}, f, indent=1)
prompts = ["a red cat", "красный кот на луне", "a red кот  on the moon!", "", "zzz unknown ✓",
           " ".join(["cat"] * 100), "the " * 40 + "кот " * 40]
cases = []
for p in prompts:
    enc = fast(p, padding="max_length", truncation=True, max_length=77, return_attention_mask=True)
    cases.append({"prompt": p, "input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                  "token_count": len(fast(p)["input_ids"])})
with open(os.path.join(here, "xlmr-tiny-cases.json"), "w") as f:
    json.dump(cases, f, ensure_ascii=False)
print([c["input_ids"][:12] for c in cases])
