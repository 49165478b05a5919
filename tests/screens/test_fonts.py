"""Chinese renders: the bundled font covers GB2312, the CJK block and rare name characters."""
from __future__ import annotations

import pytest
from fontTools.ttLib import TTFont

from screens.fonts import BOLD, REGULAR

# Characters that appear in residents' names and are missing from many fonts
# (Extension A 䶮 㛃, and less common ideographs from name registries).
RARE_NAME_CHARACTERS = "䶮㛃喆堃淼犇昇玥珺琇璟翀旻燊镕赟祎昶晔曌嫚婕龑頔炜彧垚鑫亓乜仉佘冼厍隗阚靳訾邗覃逄昝𠮷"
SAMPLE_LINES = ["居民身份证换领", "刘䶮 朱镕基 陶喆 王堃", "「受理回执」：请于工作日领取。", "①②③ ￥100.00 ＡＢＣ"]


@pytest.fixture(scope="module", params=[REGULAR, BOLD], ids=["regular", "bold"])
def cmap(request):
    font = TTFont(str(request.param), lazy=True)
    names = {record.toUnicode() for record in font["name"].names if record.nameID in (1, 4)}
    assert any("Noto Sans CJK SC" in name for name in names), "must be the simplified-Chinese face"
    return font.getBestCmap()


def missing(cmap, characters) -> list[str]:
    return [c for c in characters if ord(c) not in cmap]


def test_rare_name_characters_have_glyphs(cmap):
    assert missing(cmap, RARE_NAME_CHARACTERS) == []


def test_all_of_gb2312(cmap):
    characters = []
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                characters.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    assert len(characters) > 7400
    assert missing(cmap, characters) == []


def test_whole_cjk_unified_ideographs_block_through_unicode_12(cmap):
    # U+9FF0..U+9FFF (Unicode 13/14 additions) are not in Noto Sans CJK 2.004; see README.
    assert missing(cmap, map(chr, range(0x4E00, 0x9FF0))) == []


def test_full_width_forms_and_cjk_punctuation(cmap):
    assert missing(cmap, map(chr, list(range(0xFF01, 0xFF5F)) + list(range(0x3000, 0x3040)))) == []


def test_kivy_renders_rare_names_with_the_default_font(kiosk_app):
    from kivy.core.text import Label as CoreLabel

    font = TTFont(str(REGULAR), lazy=True)
    cmap = font.getBestCmap()
    for text in [RARE_NAME_CHARACTERS] + SAMPLE_LINES:
        assert missing(cmap, text.replace(" ", "")) == [], text
        label = CoreLabel(text=text, font_size=32)
        label.refresh()
        assert label.texture is not None and label.texture.width > 16 * len(text.replace(" ", "")) * 0.8
