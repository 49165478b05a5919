"""Mandarin pinyin syllables and how a run of typed letters splits into them.

Used by the pinyin IME and by catalogue search alike. A typed run such as
``shenfenzheng``, ``sfz``, ``zhengm`` or ``xi'an`` is split into *tokens*:

- ``full``: a complete syllable (``zheng``);
- ``abbr``: an initial standing for a whole syllable (``s``, ``zh``) — "sfz" for 身份证;
- ``partial``: the last syllable, perhaps unfinished (``zhe`` on the way to ``zheng``);
  it matches any reading it begins.

``segmentations`` returns the few best splits (fewest abbreviations, then fewest tokens),
so that ambiguous runs (``fangan`` = fang'an or fan'gan, ``xian`` = xian or xi'an) keep
their alternatives. ü is typed as ``v`` (lv, nve); ``lue``/``nue`` are accepted too.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# The syllable inventory of Standard Mandarin (toneless, ü written v), by initial.
_INVENTORY = """
a ai an ang ao e ei en eng er o ou
ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu
pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu
ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu
fa fan fang fei fen feng fo fou fu
da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du duan dui dun duo
ta tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo
na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve nue
la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve lue
ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo
ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo
ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo
ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun
qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun
xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun
zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo
cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo
sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo
ra ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo
za zai zan zang zao ze zei zen zeng zi zong zou zu zuan zui zun zuo
ca cai can cang cao ce cen ceng ci cong cou cu cuan cui cun cuo
sa sai san sang sao se sen seng si song sou su suan sui sun suo
ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun
wa wai wan wang wei wen weng wo wu
"""

SYLLABLES: frozenset[str] = frozenset(_INVENTORY.split())
#: consonant initials a resident may type alone for a whole syllable ("sfz")
INITIALS: frozenset[str] = frozenset("b p m f d t n l g k h j q x zh ch sh r z c s y w".split())
#: syllables without a consonant initial, abbreviated by their first letter (澳 ao → "a")
VOWEL_INITIALS: frozenset[str] = frozenset("aoe")
#: every non-empty beginning of a syllable ("z", "zh", "zhe", "zhen", "zheng")
PREFIXES: frozenset[str] = frozenset(s[:i] for s in SYLLABLES for i in range(1, len(s) + 1))
MAX_SYLLABLE = max(len(s) for s in SYLLABLES)
SEPARATORS = "' "

# costs used to rank splits: an abbreviation is less likely than a full syllable
_COST_ABBR = 2
_COST_PARTIAL = 1


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    kind: str  # "full" | "abbr" | "partial"
    start: int  # offset in the typed letters (separators included)
    end: int

    def matches(self, reading: str) -> bool:
        """Whether a character read ``reading`` fits this token."""
        if self.kind == "full":
            return reading == self.text
        return reading.startswith(self.text)


def initial_of(syllable: str) -> str:
    """The initial of a syllable (``zh`` of ``zheng``, ``a`` of ``an``)."""
    if syllable[:2] in ("zh", "ch", "sh"):
        return syllable[:2]
    return syllable[:1]


def is_pinyin_letters(text: str) -> bool:
    return bool(text) and all("a" <= ch <= "z" or ch in SEPARATORS for ch in text)


def segmentations(letters: str, limit: int = 4, allow_abbr: bool = True,
                  allow_partial: bool = True) -> list[tuple[Token, ...]]:
    """The ``limit`` best splits of ``letters`` (lower-case a–z, ``'`` or space between
    syllables) into tokens, best first; empty when the letters cannot be pinyin."""
    return list(_segmentations(letters, limit, allow_abbr, allow_partial))


@lru_cache(maxsize=4096)
def _segmentations(letters: str, limit: int, allow_abbr: bool,
                   allow_partial: bool) -> tuple[tuple[Token, ...], ...]:
    n = len(letters)
    if n == 0 or not is_pinyin_letters(letters):
        return ()
    # best[i]: up to `limit` cheapest splits of letters[:i], as (cost, tokens)
    best: list[list[tuple[float, tuple[Token, ...]]]] = [[] for _ in range(n + 1)]
    best[0] = [(0.0, ())]
    last_letter = max(i for i, ch in enumerate(letters) if ch not in SEPARATORS) + 1
    for i in range(n):
        if not best[i]:
            continue
        if letters[i] in SEPARATORS:
            _keep(best[i + 1], best[i], limit)
            continue
        for j in range(i + 1, min(n, i + MAX_SYLLABLE) + 1):
            piece = letters[i:j]
            if letters[j - 1] in SEPARATORS or piece not in PREFIXES:
                break
            at_end = j >= last_letter
            options = []
            if at_end and allow_partial:
                # the syllable being typed: a complete one may still grow (zhe → zheng)
                options.append(("partial", 0.0 if piece in SYLLABLES else _COST_PARTIAL))
            else:
                if piece in SYLLABLES:
                    options.append(("full", 0.0))
                if allow_abbr and (piece in INITIALS or piece in VOWEL_INITIALS):
                    options.append(("abbr", _COST_ABBR))  # "a" of 澳 (ao) in "gatxz"
            for kind, cost in options:
                token = Token(piece, kind, i, j)
                extended = [(c + cost + 0.01, toks + (token,)) for c, toks in best[i]]
                _keep(best[j], extended, limit)
    return tuple(toks for _cost, toks in best[n])


def _keep(slot: list, new: list, limit: int) -> None:
    slot.extend(new)
    slot.sort(key=lambda item: item[0])
    seen = set()
    kept = []
    for cost, toks in slot:
        key = tuple((t.text, t.kind) for t in toks)
        if key in seen:
            continue
        seen.add(key)
        kept.append((cost, toks))
        if len(kept) == limit:
            break
    slot[:] = kept


def full_split(letters: str) -> tuple[str, ...] | None:
    """The best split into complete syllables only (the last may be unfinished), or None."""
    splits = segmentations(letters, limit=1, allow_abbr=False)
    return tuple(t.text for t in splits[0]) if splits else None
