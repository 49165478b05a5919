"""`kiosk logs bundle`: no personal data and no secrets in the archive, whatever the logs held."""
from __future__ import annotations

import tarfile

from kiosk.cli import main
from kiosk.health_history import HealthHistory

KEY = "c2VjcmV0LXRlcm1pbmFsLWtleS0wMTIzNDU2Nzg5YWJjZGVm"
PIN_HASH = "scrypt$16384$8$1$aGV5aWJhbi1kZW1vLXBpbg==$eLua1hFDlAUSqr00WtakzvFns/2a5ElzexnfPls/A0Q="


def test_the_bundle_holds_logs_config_history_versions_but_no_personal_data_or_secret(tmp_path, monkeypatch,
                                                                                        capsys):
    state, flights = tmp_path / "state", tmp_path / "flight"
    monkeypatch.setenv("KIOSK_STATE_DIR", str(state))
    monkeypatch.setenv("KIOSK_FLIGHT_DIR", str(flights))
    monkeypatch.setattr("shutil.which", lambda _name: None)  # no journald here
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[terminal]\nid = "HK-T-1"\nname = "测试"\n[backend]\nurl = "https://x.example"\n'
                      f'terminal_key = "{KEY}"\n[technician]\npin_hash = "{PIN_HASH}"\n', encoding="utf-8")
    HealthHistory(path=state / "health-history.json").record("printer", "user_error", "DEV-007", "paper out")
    flights.mkdir()
    (flights / "20260101-000000-a.jsonl").write_text('{"kind": "screen", "screen": "home"}\n', encoding="utf-8")
    log = tmp_path / "kiosk.log"
    log.write_text("card read name=欧阳娜娜 id 370503194003050029 phone 13805461234 住址：山东省东营市河口区仙河镇\n"
                   f"key {KEY}\n", encoding="utf-8")
    out = tmp_path / "bundle.tar.gz"
    code = main(["logs", "bundle", "--out", str(out), "--config", str(config), "--log", str(log)])
    # the log itself carried the terminal key: the bundle refuses rather than ship it
    assert code == 1 and not out.exists()
    log.write_text("card read name=欧阳娜娜 id 370503194003050029 phone 13805461234 住址：山东省东营市河口区仙河镇\n",
                   encoding="utf-8")
    assert main(["logs", "bundle", "--out", str(out), "--config", str(config), "--log", str(log)]) == 0
    with tarfile.open(out) as archive:
        contents = {m.name: archive.extractfile(m).read().decode("utf-8") for m in archive.getmembers()}
    names = {name.split("/", 1)[1] for name in contents}
    assert names == {"versions.json", "config/kiosk.toml", "health-history.json", "logs/01-kiosk.log",
                     "flight/20260101-000000-a.jsonl"}
    everything = "\n".join(contents.values())
    for secret in (KEY, PIN_HASH, "欧阳娜娜", "370503194003050029", "13805461234", "仙河镇"):
        assert secret not in everything
    assert 'terminal_key = "<removed>"' in contents["kiosk-bundle/config/kiosk.toml"]
    assert "paper out" in contents["kiosk-bundle/health-history.json"]
