"""The printer simulator: parsing any byte stream, what it prints, what it answers, its faults."""
from __future__ import annotations

import socket

import numpy as np
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz_profiles import fuzz_examples
from PIL import Image

from drivers.printer import commands as c
from drivers.printer.raster import raster_bytes
from drivers.printer.simulator import PrinterSimulator
from drivers.printer.simulator.parser import EscPosParser
from drivers.printer.simulator.server import ControlServer, apply_control
from drivers.printer.status import Paper, parse_status

KNOWN_FRAMES = [c.initialize(), c.bold(True), c.underline(1), c.align(c.Align.CENTER), c.character_size(2, 2),
                c.line_spacing(40), c.feed_lines(1), c.chinese_mode_on(), "河口".encode("gb18030"),
                c.chinese_mode_off(), b"abc\n", c.qr_native(b"hello", 4, c.QrErrorLevel.M), c.cut(),
                c.status_request(c.StatusRequest.PAPER_SENSOR), c.raster(1, 1, b"\xff"), c.select_utf8(),
                b"\x1bt\x00", b"\x1b!\x38", b"\x1c!\x0c", b"\x1dB\x01"]


def _decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


# -- parser ------------------------------------------------------------------------------------

@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.binary(max_size=400))
def test_parser_accounts_for_every_byte_of_random_input(data):
    parser = EscPosParser()
    parsed = parser.feed(data) + parser.finish()
    assert b"".join(command.raw for command in parsed) == data
    assert all(command.kind for command in parsed)


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.lists(st.sampled_from(KNOWN_FRAMES), max_size=12), st.lists(st.integers(1, 40), max_size=8))
def test_parser_gives_the_same_commands_however_the_stream_is_chunked(frames, cuts):
    data = b"".join(frames)
    whole = EscPosParser().feed(data)
    chunked_parser = EscPosParser()
    chunked, position = [], 0
    for size in cuts + [len(data)]:
        chunked += chunked_parser.feed(data[position:position + size])
        position += size
    merged = []  # text runs may arrive split: compare them joined
    for command in chunked:
        if merged and command.kind == "text" and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + command.raw)
        else:
            merged.append((command.kind, command.raw))
    assert merged == [(command.kind, command.raw) for command in whole]


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(st.lists(st.sampled_from(KNOWN_FRAMES), max_size=10), st.binary(max_size=30), st.integers(0, 200))
def test_simulator_survives_mutated_streams(frames, noise, where):
    data = bytearray(b"".join(frames))
    position = min(where, len(data))
    data[position:position] = noise
    simulator = PrinterSimulator(58)
    simulator.feed(bytes(data))
    simulator.finish()
    simulator.render()
    report = simulator.report()
    assert report["bytes_received"] == len(data)


def test_unknown_commands_are_listed_with_offset_and_bytes_not_dropped():
    simulator = PrinterSimulator(80)
    simulator.feed(b"\x1b@A\n\x1bZ\x02B\n\x1d(Z\x02\x00\x01\x02C\n\x07")
    simulator.finish()
    unknown = simulator.report()["unknown"]
    assert any("ESC Z" in line and "@4" in line for line in unknown)
    assert any("GS ( Z" in line for line in unknown)
    assert any("0x07" in line for line in unknown)
    assert simulator.text_lines[0] == "A" and simulator.text_lines[-1] == "C"


def test_a_stream_ending_inside_a_command_is_reported_as_truncated():
    simulator = PrinterSimulator(80)
    simulator.feed(b"\x1b@\x1d(k\x10\x00\x31")
    simulator.finish()
    assert any("stream ended inside a command" in line for line in simulator.report()["unknown"])


# -- printing ----------------------------------------------------------------------------------

def test_gb18030_chinese_and_punctuation_print_as_text():
    simulator = PrinterSimulator(80)
    simulator.feed(c.initialize() + c.encode_text("申请人：张*三，已受理。") + b"\n")
    assert simulator.text_lines == ["申请人：张*三，已受理。"]


def test_chinese_bytes_outside_chinese_mode_print_as_code_page_garbage_like_a_printer():
    simulator = PrinterSimulator(80)
    simulator.feed(c.initialize() + "河".encode("gb18030") + b"\n")
    assert simulator.text_lines[0] != "河"


def test_utf8_selected_with_fs_paren_c_decodes_utf8():
    simulator = PrinterSimulator(80, encoding="utf-8")
    simulator.feed(c.EscPosWriter("utf-8").initialize().line("河易办①").getvalue())
    assert simulator.text_lines == ["河易办①"]


def test_native_qr_is_drawn_as_a_scannable_symbol_with_the_exact_payload():
    payload = "https://zwfw.example.gov.cn/q/HK2025?c=河口"
    simulator = PrinterSimulator(58)
    simulator.feed(c.initialize() + c.align(c.Align.CENTER) + c.qr_native(payload.encode(), 5, c.QrErrorLevel.Q)
                   + b"\n")
    assert _decode(simulator.render()) == [payload]


def test_module_size_changes_the_symbol_size():
    def width(size: int) -> int:
        simulator = PrinterSimulator(80)
        simulator.feed(c.qr_native(b"size", size, c.QrErrorLevel.L))
        paper = np.array(simulator.paper.strips[0].image)
        columns = np.where(~paper.all(axis=0))[0]
        return int(columns[-1] - columns[0] + 1)

    assert width(8) == 2 * width(4)


def test_raster_prints_the_same_dots_it_was_given():
    picture = Image.new("1", (64, 16), 1)
    for x in range(0, 64, 4):
        picture.putpixel((x, x % 16), 0)
    simulator = PrinterSimulator(80)
    simulator.feed(c.align(c.Align.LEFT) + raster_bytes(picture, 576))
    printed = simulator.paper.strips[0].image.crop((0, 0, 64, 16))
    assert (np.array(printed) == np.array(picture)).all()


def test_alignment_size_and_bold_change_what_is_printed():
    def ink_box(data: bytes):
        simulator = PrinterSimulator(80)
        simulator.feed(data)
        return simulator.paper.strips[0].image.convert("L").point(lambda v: 255 - v).getbbox()

    left = ink_box(b"AB\n")
    centred = ink_box(c.align(c.Align.CENTER) + b"AB\n")
    right = ink_box(c.align(c.Align.RIGHT) + b"AB\n")
    assert left[0] < centred[0] < right[0]
    assert right[2] > 560
    big = ink_box(c.character_size(2, 2) + b"AB\n")
    assert big[3] - big[1] > 1.6 * (left[3] - left[1])
    regular = PrinterSimulator(80)
    regular.feed(b"AB\n")
    bold = PrinterSimulator(80)
    bold.feed(c.bold(True) + b"AB\n")
    ink = lambda sim: np.count_nonzero(~np.array(sim.paper.strips[0].image))  # noqa: E731
    assert ink(bold) > ink(regular)


def test_long_lines_wrap_at_the_paper_edge_like_a_printer():
    simulator = PrinterSimulator(58)
    simulator.feed(b"x" * 40 + b"\n")
    assert simulator.text_lines == ["x" * 32, "x" * 8]


def test_cuts_are_marked_and_each_receipt_saved(tmp_path):
    simulator = PrinterSimulator(58, out_dir=tmp_path)
    simulator.feed(b"one\n" + c.cut(c.CutMode.PARTIAL) + b"two\n" + c.cut(c.CutMode.FULL))
    assert simulator.cuts == 2
    assert [s.marker for s in simulator.paper.strips if s.marker] == ["cut-partial", "cut-full"]
    assert [p.name for p in simulator.saved] == ["receipt-0001.png", "receipt-0002.png"]


def test_each_saved_receipt_has_its_text_and_codes_beside_it(tmp_path):
    """The paper can be searched without reading pictures (the privacy audit greps it)."""
    simulator = PrinterSimulator(80, out_dir=tmp_path)
    simulator.feed(b"one\n" + c.cut(c.CutMode.FULL) + b"two\n" + c.qr_native(b"https://x.example/q/1?c=2")
                   + c.cut(c.CutMode.FULL))
    assert (tmp_path / "receipt-0001.txt").read_text("utf-8") == "one\n"
    again = PrinterSimulator(80, out_dir=tmp_path)  # the next kiosk's printer, on the same folder
    again.feed(b"three\n" + c.cut(c.CutMode.FULL))
    assert [p.name for p in again.saved] == ["receipt-0003.png"]
    assert (tmp_path / "receipt-0003.txt").read_text("utf-8") == "three\n"
    assert (tmp_path / "receipt-0002.txt").read_text("utf-8").splitlines() == [
        "two", "[QR] https://x.example/q/1?c=2"]


# -- status and faults -------------------------------------------------------------------------

def test_answers_dle_eot_with_real_status_bytes():
    simulator = PrinterSimulator(80)
    assert simulator.feed(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04") == b"\x12\x12\x12\x12"
    simulator.set_paper("near_end")
    assert parse_status(simulator.feed(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04")).paper is Paper.NEAR_END
    simulator.set_cover(True)
    status = parse_status(simulator.feed(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"))
    assert status.cover_open and not status.online


def test_paper_running_out_mid_job_stops_printing_and_drops_the_rest():
    simulator = PrinterSimulator(80)
    simulator.run_out_after(70)  # a little over two lines
    job = b"".join(f"line {n}\n".encode() for n in range(10)) + c.paper_sensor_request()
    answers = simulator.feed(job)
    assert answers == b""  # the end-of-job marker is never reached
    assert simulator.text_lines == ["line 0", "line 1", "line 2"]  # the third is cut by the paper end
    status = parse_status(simulator.status_bytes())
    assert status.paper is Paper.OUT and status.paper_stopped_printing and not status.online
    assert simulator.dropped_bytes > 0
    simulator.load_paper()
    assert simulator.feed(b"again\n" + c.paper_sensor_request()) == b"\x00"
    assert [s.marker for s in simulator.paper.strips if s.marker] == ["paper-out", "new-roll"]


def test_offline_printer_answers_status_but_prints_nothing():
    simulator = PrinterSimulator(80)
    simulator.set_online(False)
    assert simulator.feed(b"lost\n\x10\x04\x01") == b"\x1a"
    assert simulator.text_lines == []


def test_control_commands_and_control_port():
    simulator = PrinterSimulator(80)
    assert apply_control(simulator, "paper near_end").startswith("ok")
    assert simulator.paper_state is Paper.NEAR_END
    assert apply_control(simulator, "cover open").startswith("ok") and simulator.cover_open
    assert apply_control(simulator, "explode").startswith("error unknown command")
    assert apply_control(simulator, "paper run-out 500").startswith("ok")
    with ControlServer(simulator, port=0) as control:
        with socket.create_connection(("127.0.0.1", control.port), timeout=5) as connection:
            stream = connection.makefile("rw", encoding="utf-8", newline="\n")
            stream.write("paper out\nstatus\n")
            stream.flush()
            assert stream.readline().strip() == "ok paper out"
            assert '"paper": "out"' in stream.readline()


def test_a_day_of_receipts_keeps_memory_bounded():
    """Issue 15: the simulator kept every receipt (+347 MB per 500); it keeps the last pieces."""
    from drivers.printer.simulator.printer import KEEP_PIECES

    simulator = PrinterSimulator(58)
    receipt = "受理回执 370503-20261206-000123\n".encode("gb18030")
    for number in range(KEEP_PIECES * 3):
        simulator.feed(b"\x1c\x26" + receipt + b"\x1c\x2e" + b"\n" * 3 + b"\x1dV\x00")
    assert simulator.cuts == KEEP_PIECES * 3
    cut_marks = [strip for strip in simulator.paper.strips if strip.marker and strip.marker.startswith("cut")]
    assert len(cut_marks) == KEEP_PIECES
    assert simulator.text_lines[-1].strip() == "" or "受理回执" in "".join(simulator.text_lines[-5:])


def test_a_header_declaring_gigabytes_is_reported_not_awaited():
    simulator = PrinterSimulator(80)
    simulator.feed(b"\x1d8L\xff\xff\xff\x7f" + b"\x00" * 64)  # GS 8 L declaring 2 GB
    simulator.feed("之后的文字\n".encode("gb18030").join([b"\x1c\x26", b"\x1c\x2e"]))
    assert any(command.kind == "oversized" for command in simulator.unknown)
    assert simulator.parser.pending < 1024  # nothing is held back waiting for the 2 GB


def test_a_big_raster_fed_a_byte_at_a_time_is_parsed_in_linear_time(monkeypatch):
    """Issue 15: the parser copied and re-parsed its whole buffer on every small read."""
    from drivers.printer.simulator import parser as module

    calls = []
    real = module._parse_one
    monkeypatch.setattr(module, "_parse_one", lambda *args: calls.append(1) or real(*args))
    parser = module.EscPosParser()
    width_bytes, height = 72, 400
    stream = b"\x1dv0\x00" + bytes([width_bytes, 0, height % 256, height // 256]) + b"\x55" * (width_bytes * height)
    commands = []
    for start in range(0, len(stream), 16):  # 1,800 small reads
        commands += parser.feed(stream[start:start + 16])
    assert [command.kind for command in commands] == ["raster"]
    assert parser.pending == 0
    assert len(calls) < 10  # once to learn the size, once when it is all there


def test_the_kept_roll_holds_one_bit_a_dot_and_gives_back_the_same_bands():
    """A simulator prints all day and keeps its last 50 receipts: at Pillow's byte a dot they
    held 20 MB of the kiosk's process in the soak; packed, an eighth of that."""
    from PIL import Image, ImageDraw

    from drivers.printer.simulator.paper import Strip

    band = Image.new("1", (576, 40), 1)
    ImageDraw.Draw(band).text((10, 5), "receipt 0042", fill=0)
    kept = Strip(band)
    assert kept.height == 40 and kept.is_paper
    assert kept.image.tobytes() == band.tobytes() and kept.image.size == band.size
    assert len(kept._bits) == 576 // 8 * 40
    assert not Strip(marker="cut-full").is_paper and Strip(marker="cut-full").image is None
