"""Segmentation: jieba's algorithm and dictionary plus the domain vocabulary."""

from __future__ import annotations

import json
import logging

import jieba
import pytest

from app.nlu.normalize import Normalizer
from app.nlu.segment import Segmenter, build_tokenizer
from tests.nlu.support import HELDOUT, PACK_DATA, TRAINING


@pytest.mark.parametrize("term", ["保修期", "退换货", "七天无理由", "增值税专用发票", "人工客服", "快递单号", "会员积分",
                                  "运费险", "上门取件", "转人工", "扫地机器人"])
def test_domain_terms_stay_whole(segmenter: Segmenter, term: str) -> None:
    assert term in segmenter.segment(f"请问{term}怎么说")


def test_domain_dictionary_has_over_a_hundred_terms() -> None:
    terms = [line.split()[0] for line in PACK_DATA.read_text("domain_dict.txt").splitlines() if line.strip()]
    assert len(terms) >= 100
    assert len(set(terms)) == len(terms)


@pytest.mark.parametrize(("text", "token"), [("我的[订单x]到哪了", "[订单x]"), ("电话[电话x]", "[电话x]")])
def test_jddc_placeholder_is_one_token(segmenter: Segmenter, text: str, token: str) -> None:
    assert token in segmenter.segment(text)


def test_whitespace_is_not_a_token(segmenter: Segmenter) -> None:
    assert segmenter.segment("人工 人工") == ("人工", "人工")


def test_punctuation_marks_are_tokens_as_in_jieba(segmenter: Segmenter) -> None:
    assert segmenter.segment("你好,在吗?") == ("你好", ",", "在", "吗", "?")


def test_latin_and_digits_are_glued_like_jieba(segmenter: Segmenter) -> None:
    assert segmenter.segment("iphone15有货吗") == ("iphone15", "有货", "吗")


def test_empty_text_has_no_tokens(segmenter: Segmenter) -> None:
    assert segmenter.segment("") == ()


def _corpus(normalizer: Normalizer) -> list[str]:
    records = list(TRAINING)
    records += [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [normalizer(record["text"]) for record in records]


def test_fast_cut_matches_jieba_cut_without_hmm_on_every_example(segmenter: Segmenter,
                                                                  normalizer: Normalizer) -> None:
    for text in _corpus(normalizer):
        if "[" in text:  # placeholders are deliberately kept whole, unlike jieba
            continue
        expected = tuple(w for w in segmenter.tokenizer.lcut(text, HMM=False) if not w.isspace())
        assert segmenter.segment(text) == expected, text


def test_segmenter_uses_its_own_tokenizer_not_jiebas_global(segmenter: Segmenter) -> None:
    assert segmenter.tokenizer is not jieba.dt
    assert "七天无理由" in segmenter.tokenizer.FREQ


def test_building_the_tokenizer_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    build_tokenizer(PACK_DATA.read_text("domain_dict.txt"))
    assert capfd.readouterr().err == ""
    assert logging.getLogger("jieba").level >= logging.WARNING
