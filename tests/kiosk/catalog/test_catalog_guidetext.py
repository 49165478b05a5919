"""Word cutter, thesaurus and guide-text search (issue 16)."""
from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.catalog.guidetext import GuideScorer
from kiosk.catalog.index import SearchIndex
from kiosk.catalog.items import items_from_dicts
from kiosk.catalog.query import WordSplitter
from kiosk.catalog.thesaurus import FORMAT, THESAURUS_FILE, Thesaurus
from kiosk.catalog.wordcut import WordCutter, build_words


@pytest.fixture(scope="module")
def cutter(tmp_path_factory) -> WordCutter:
    return WordCutter(tmp_path_factory.mktemp("words") / "words.sqlite3").load()


@pytest.mark.parametrize("text", ["我想补领身份证", "小孩刚生下来上户口", "家里老人去世了销户", "个体工商户设立登记",
                                  "买二手房过户交多少税", "办理营业执照需要什么材料"])
def test_cuts_like_jieba_without_its_hmm(cutter, text):
    import jieba

    assert cutter.cut(text) == list(jieba.cut(text, HMM=False))


def test_added_words_stay_whole(cutter):
    assert "翻盖房子" not in cutter.cut("我想翻盖房子")
    cutter.add_word("翻盖房子")
    assert "翻盖房子" in cutter.cut("我想翻盖房子")
    assert cutter.cut("") == []


def test_a_broken_dictionary_file_is_rebuilt(tmp_path):
    path = tmp_path / "words.sqlite3"
    path.write_bytes(b"not a database")
    assert WordCutter(path).cut("身份证") == ["身份证"]
    assert build_words(tmp_path / "again.sqlite3") > 300_000


def _items():
    return items_from_dicts([
        {"code": "A-1", "name": "出生登记", "conditions": ["新生儿出生后一个月内，由父母到户籍窗口申报户口"],
         "materials": [{"name": "出生医学证明"}, {"name": "父母的居民户口簿"}]},
        {"code": "A-2", "name": "死亡人员户口注销", "conditions": ["家中有人去世后，由亲属办理户口注销"]},
        {"code": "A-3", "name": "营业执照遗失补领", "process": ["登报声明作废", "到窗口领取新执照"]},
    ]).items


def test_guide_texts_answer_words_the_name_does_not_use(cutter):
    scorer = GuideScorer(_items(), cutter.cut)
    found = scorer.search("孩子刚出生要报户口")
    assert found and found[0].item == 0
    assert scorer.search("有人去世了")[0].item == 1
    assert scorer.search("天气很好") == []


def test_search_index_falls_back_to_the_guide(tmp_path):
    index = SearchIndex(_items(), splitter=WordSplitter(cache_dir=tmp_path))
    results = index.search("新生儿报户口", 5)
    assert results[0].item.code == "A-1"
    assert results[0].match in ("guide", "word", "synonym")
    assert index.search("有人去世", 5)[0].item.code == "A-2"


def test_thesaurus_relates_query_words_to_catalogue_words(tmp_path):
    (tmp_path / THESAURUS_FILE).write_text(f"{FORMAT}\n# test\n妊娠\t怀孕\t身孕\n丢失\t遗失\n", encoding="utf-8")
    thesaurus = Thesaurus.for_vocabulary({"妊娠", "遗失"}, tmp_path)
    assert thesaurus.expand("怀孕") == ("妊娠",)
    assert thesaurus.expand("丢失") == ("遗失",)
    assert thesaurus.expand("妊娠") == ()
    assert len(Thesaurus.for_vocabulary(set(), None)) == 0


def test_an_item_whose_guide_answers_every_word_comes_before_a_whole_life_event(tmp_path):
    """'孩子上学家里困难': the synonyms table links 孩子上学 to every item of the life event 上学;
    the one item whose texts answer every word (上学, 家里, 困难 …) comes right after the
    enrolment item itself, before the rest of the life event."""
    from kiosk.catalog.synonyms import load_synonyms
    from kiosk.catalog.service import DEMO_CATALOG_PATH
    from kiosk.catalog.items import load_catalog_file

    items = load_catalog_file(DEMO_CATALOG_PATH).items
    index = SearchIndex(items, load_synonyms(), splitter=WordSplitter(cache_dir=tmp_path))
    names = [r.item.name for r in index.search("孩子上学家里困难", 5)]
    assert names[:2] == ["义务教育入学登记", "家庭经济困难学生资助申请"], names
