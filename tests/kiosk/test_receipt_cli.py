"""`kiosk receipt render`, `kiosk printer status|test-page` and the [devices.printer] config section."""
from __future__ import annotations

import socket

import pytest
import zxingcpp
from PIL import Image

from drivers.printer.simulator import PrinterSimulator
from drivers.printer.simulator.server import TcpPrinterServer
from kiosk.cli import main
from kiosk.config import ConfigError, parse_settings
from kiosk.receipts import samples

BASE = '[terminal]\nid = "HK-T-1"\nname = "测试终端"\n'


def _config(tmp_path, printer_section: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + "[devices.printer]\n" + printer_section, encoding="utf-8")
    return str(path)


def test_render_writes_the_bytes_and_a_png_with_a_scannable_qr(tmp_path, capsys):
    out, png = tmp_path / "a.bin", tmp_path / "a.png"
    assert main(["receipt", "render", "acceptance", "--out", str(out), "--png", str(png), "--width", "58"]) == 0
    data = out.read_bytes()
    assert data.startswith(b"\x1b@") and b"\x1d(k" in data
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(png))]
    assert decoded == [samples.FOLLOW_URL]
    assert "unknown commands: 0" in capsys.readouterr().out


def test_render_with_raster_qr_is_bigger(tmp_path):
    native, raster = tmp_path / "n.bin", tmp_path / "r.bin"
    main(["receipt", "render", "pickup", "--out", str(native)])
    main(["receipt", "render", "pickup", "--out", str(raster), "--qr", "raster"])
    assert b"\x1d(k" not in raster.read_bytes()
    assert raster.stat().st_size > native.stat().st_size


def test_render_errors_are_one_line(tmp_path, capsys):
    assert main(["receipt", "render", "test", "--out", str(tmp_path / "no" / "x.bin")]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert main(["receipt", "render", "test", "--out", str(tmp_path / "x.bin"), "--logo", "/nope.png"]) == 2


def test_printer_status_and_test_page_on_the_simulated_printer(tmp_path, capsys):
    config = _config(tmp_path, 'driver = "simulator"\npaper_width = 58\n')
    assert main(["printer", "status", "--config", config]) == 0
    assert "OK — online, paper ok, cover closed" in capsys.readouterr().out
    png = tmp_path / "test.png"
    assert main(["printer", "test-page", "--config", config, "--png", str(png)]) == 0
    assert "printed and confirmed" in capsys.readouterr().out
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(png))][0].startswith("KIOSK-TEST HK-T-1 ")


def test_printer_status_over_the_network_reports_paper_near_end(tmp_path, capsys):
    simulator = PrinterSimulator(80)
    simulator.set_paper("near_end")
    with TcpPrinterServer(simulator, port=0) as server:
        config = _config(tmp_path, f'driver = "escpos"\ntransport = "network"\nnetwork_host = "127.0.0.1"\n'
                                   f'network_port = {server.port}\ntimeout_seconds = 1.0\n')
        assert main(["printer", "status", "--config", config]) == 0
        assert "paper near_end" in capsys.readouterr().out
        simulator.set_paper("out")
        assert main(["printer", "status", "--config", config]) == 1
        assert "paper out" in capsys.readouterr().out
        assert main(["printer", "test-page", "--config", config]) == 3
        assert "paper out before printing" in capsys.readouterr().err


def test_printer_status_of_a_write_only_printer_is_unknown(tmp_path, capsys):
    config = _config(tmp_path, f'driver = "escpos"\ntransport = "file"\nfile_path = "{tmp_path / "lp0"}"\n')
    assert main(["printer", "status", "--config", config]) == 1
    assert "status unknown" in capsys.readouterr().out


def test_missing_printer_is_a_one_line_error(tmp_path, capsys):
    with socket.socket() as probe:  # a closed port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _config(tmp_path, f'driver = "escpos"\ntransport = "network"\nnetwork_host = "127.0.0.1"\n'
                               f'network_port = {port}\n')
    assert main(["printer", "status", "--config", config]) == 3
    err = capsys.readouterr().err
    assert "DEV-002" in err and "Traceback" not in err


def test_printer_config_section_defaults_and_validation():
    settings = parse_settings(BASE)
    # no printer unless the file names one: a simulator is never chosen silently
    assert settings.devices.printer.driver == "none" and settings.devices.printer.paper_width == 80
    settings = parse_settings(BASE + '[devices.printer]\ndriver = "escpos"\ntransport = "usb"\n'
                                     'usb_vendor_id = 0x0416\nusb_product_id = 0x5011\npaper_width = 58\n'
                                     'encoding = "gbk"\nprofile = "ZJ-5870"\nqr = "raster"\n')
    assert settings.devices.printer.usb_vendor_id == 0x0416 and settings.devices.printer.qr == "raster"
    for bad, key in (("paper_width = 70", "paper_width"), ('encoding = "big5"', "encoding"),
                     ('transport = "bluetooth"', "transport"), ("network_port = 0", "network_port"),
                     ('colour = "red"', "colour")):
        with pytest.raises(ConfigError) as caught:
            parse_settings(BASE + "[devices.printer]\n" + bad + "\n")
        assert caught.value.key == f"devices.printer.{key}" and caught.value.line == 5
