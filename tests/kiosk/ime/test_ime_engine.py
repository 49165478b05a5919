"""The pinyin input method: candidates, phrases, initials, context, paging and composing."""
from __future__ import annotations

import sqlite3

import pytest

from kiosk.ime.engine import Composer, ImeEngine
from kiosk.ime.lexicon import Lexicon, LexiconError, build_lexicon
from kiosk.ime.service import ImeService

SOURCE = """\
证明 6425 n
怎么 27339 r
正名 200 v
争鸣 300 v
证 3628 n
正 37763 d
争 3841 v
政 5000 n
王 20000 n
秀英 300 nr
秀 2000 n
英 8000 n
街道 3000 n
接到 9000 v
河口 300 ns
六合 200 ns
柳河 400 ns
他 300000 r
她 200000 r
它 100000 r
汤 3000 n
塔 2000 n
材料 5000 n
身份证 708 n
"""
CONTEXT = """\
places = ["河口区", "六合街道", "六合"]
address = ["街道", "社区", "号楼"]
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lexicon")
    (folder / "dict.txt").write_text(SOURCE, encoding="utf-8")
    (folder / "context.toml").write_text(CONTEXT, encoding="utf-8")
    report = build_lexicon(folder / "lex.sqlite3", source=folder / "dict.txt", context=folder / "context.toml")
    assert report.rows > 20000  # every CJK character stays typeable
    return ImeEngine(Lexicon(report.path))


def first(engine, letters, context="general", n=3):
    return [c.text for c in engine.candidates(letters, context)[:n]]


def test_phrase_input_and_initials(engine):
    assert first(engine, "zhengming", n=1) == ["证明"]
    assert first(engine, "zm", n=2) == ["怎么", "证明"]  # the commoner word first
    assert first(engine, "zhengm", n=1) == ["证明"]
    assert first(engine, "sfz", n=1) == ["身份证"]


def test_exact_syllables_before_longer_ones(engine):
    assert first(engine, "ta") == ["他", "她", "它"]  # not 汤 (tang)


def test_whole_phrase_guess_and_its_first_words(engine):
    candidates = engine.candidates("wangxiuyingjiedao", "address")
    assert candidates[0].text == "王秀英街道"
    partial = next(c for c in candidates if c.text == "王秀英")
    assert partial.consumed == len("wangxiuying")


def test_address_context_ranks_places_and_address_words_up(engine):
    assert first(engine, "liuhe", "general", 1) == ["六合"]
    assert first(engine, "jiedao", "general", 1) == ["接到"]
    assert first(engine, "jiedao", "address", 1) == ["街道"]
    assert first(engine, "liuhejiedao", "address", 1) == ["六合街道"]
    assert first(engine, "hekouqu", "address", 1) == ["河口区"]


def test_catalogue_words_rank_up_in_search_fields(engine):
    engine.lexicon.add_words(["长护险"])
    engine._memo.clear()
    engine._span_memo.clear()
    assert first(engine, "changhuxian", "search", 1) == ["长护险"]


def test_not_pinyin_gives_no_candidates(engine):
    assert engine.candidates("qwrtx'") == [] or all(c.consumed for c in engine.candidates("qwrtx'"))
    assert engine.candidates("") == []
    assert engine.candidates("iu") == []


def test_composer_chooses_pages_undoes_and_commits(engine):
    composer = Composer(engine, page_size=2)
    for letter in "zhengmingcailiao":
        composer.type(letter)
    assert composer.page_candidates()[0].text == "证明材料"
    composer.next_page()
    assert composer.page == 1 and composer.has_previous_page
    composer.previous_page()
    # choose 证明 only: the rest keeps composing
    page = 0
    while "证明" not in [c.text for c in composer.page_candidates()]:
        composer.next_page()
        page += 1
        assert page < 10
    text = composer.choose([c.text for c in composer.page_candidates()].index("证明"))
    assert text == "" and composer.preedit == "证明cailiao"
    assert composer.backspace() and composer.preedit == "证明cailia"
    for _ in range(len("cailia")):
        composer.backspace()
    assert composer.backspace() and composer.preedit == "zhengming"  # the choice is undone
    for letter in "cailiao":
        composer.type(letter)
    composer.choose(composer.page_candidates().index(next(c for c in composer.page_candidates()
                                                          if c.text == "证明")))
    assert composer.commit_first() == "证明材料"
    assert not composer.active and not composer.backspace()


def test_composer_ignores_what_is_not_a_letter_and_caps_length(engine):
    composer = Composer(engine)
    for key in "'1你A":
        composer.type(key)
    assert composer.letters == "a"
    for _ in range(100):
        composer.type("a")
    assert len(composer.letters) == 48
    assert composer.commit_raw() == "a" * 48


def test_choosing_does_not_teach_the_kiosk(engine):
    before = first(engine, "zheng", n=8)
    composer = Composer(engine)
    for letter in "zheng":
        composer.type(letter)
    composer.choose(len(composer.page_candidates()) - 1)
    assert first(engine, "zheng", n=8) == before


def test_lexicon_of_another_version_is_rebuilt(tmp_path):
    path = tmp_path / "pinyin_lexicon.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    db.execute("INSERT INTO meta VALUES ('version', '0')")
    db.commit()
    db.close()
    with pytest.raises(LexiconError, match="version"):
        Lexicon(path)
    path.write_bytes(b"not a database")
    with pytest.raises(LexiconError):
        Lexicon(path)


def test_service_reports_an_unusable_cache_folder(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("x")
    service = ImeService(blocked / "cache", in_subprocess=False)
    assert service.ensure_ready() is None
    assert service.error and not service.ready
