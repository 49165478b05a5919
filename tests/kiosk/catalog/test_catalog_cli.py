"""`kiosk catalog search QUERY... --catalog FILE --json [--limit K]` prints one JSON line a query."""
from __future__ import annotations

import io
import json

from kiosk.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lines_one_per_query(tmp_path, capsys):
    catalog = tmp_path / "items.jsonl"
    catalog.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"code": "A", "name": "居民身份证换领", "popularity": 10},
        {"code": "B", "name": "居民身份证补领", "popularity": 20},
        {"code": "C", "name": "内地居民结婚登记"}]), encoding="utf-8")
    code, out, _err = run(capsys, "catalog", "search", "身份证", "jiehun", "", "--catalog", str(catalog), "--json",
                          "--limit", "1")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["query"] for line in lines] == ["身份证", "jiehun", ""]
    assert lines[0]["results"] == [{"code": "B", "name": "居民身份证补领"}]
    assert lines[1]["results"] == [{"code": "C", "name": "内地居民结婚登记"}]
    assert lines[2]["results"] == []
    assert all(set(line) == {"query", "results", "ms"} and line["ms"] >= 0 for line in lines)


def test_queries_from_stdin_and_readable_output(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("sfz\n开店\n"))
    code, out, err = run(capsys, "catalog", "search", "-")
    assert code == 0
    assert "items indexed in" in err
    assert "居民【身份证】补领" in out  # the demo catalogue, matched part marked
    assert "【个体工商户】设立登记  [370503-SP-0001]" in out


def test_unusable_catalogue_is_one_line_and_exit_2(tmp_path, capsys):
    code, _out, err = run(capsys, "catalog", "search", "x", "--catalog", str(tmp_path / "none.json"), "--json")
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err


def test_check_lists_problems(tmp_path, capsys):
    catalog = tmp_path / "items.json"
    catalog.write_text('[{"code": "A", "name": "甲"}, {"code": "A", "name": "乙"}]', encoding="utf-8")
    code, out, _err = run(capsys, "catalog", "check", str(catalog))
    assert code == 1 and "1 usable items" in out and "already used" in out
