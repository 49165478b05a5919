"""The outbox: nothing lost, nothing sent twice, nothing personal readable on disk or in logs."""
from __future__ import annotations

import json
import logging
import sqlite3

import pytest

from backend_support import resident_id
from kiosk.backend.crypto import DecryptError, KeyFileError, RecordCipher, load_or_create_data_key
from kiosk.backend.errors import BackendRejected, BackendUnavailable
from kiosk.backend.outbox import CorruptItem, Outbox

NAME = "欧阳小明"
ID_NUMBER = resident_id("19750203", sequence=456)


@pytest.fixture
def key_path(tmp_path):
    return tmp_path / "outbox.key"


@pytest.fixture
def outbox(tmp_path, key_path):
    box = Outbox(tmp_path / "outbox.sqlite3", RecordCipher(load_or_create_data_key(key_path)))
    yield box
    box.close()


class Recorder:
    """A deliver function that records what it sent and fails on command."""

    def __init__(self):
        self.sent: list[str] = []
        self.fail: dict[str, Exception] = {}

    def __call__(self, envelope, progress):
        label = envelope.payload["label"]
        if label in self.fail:
            raise self.fail[label]
        assert envelope.part("photo") == f"bytes of {label}".encode()
        self.sent.append(label)
        return {"ok": label}, {"label": label}


def put(outbox, label, kind="rating"):
    return outbox.enqueue(kind, {"label": label, "name": NAME, "id_number": ID_NUMBER},
                          {"photo": f"bytes of {label}".encode()})


def test_items_are_sent_in_the_order_they_were_written(outbox):
    for label in "abcde":
        put(outbox, label)
    recorder = Recorder()
    report = outbox.drain(recorder)
    assert recorder.sent == list("abcde")
    assert len(report.delivered) == 5
    assert outbox.pending_count() == 0


def test_personal_data_is_encrypted_on_disk_and_gone_after_acknowledgement(outbox, tmp_path):
    key = put(outbox, "a")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.sqlite3*"))
    for secret in (NAME.encode(), ID_NUMBER.encode(), b"bytes of a"):
        assert secret not in raw
    outbox.drain(Recorder())
    conn = sqlite3.connect(tmp_path / "outbox.sqlite3")
    assert conn.execute("SELECT COUNT(*) FROM outbox_items").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM outbox_parts").fetchone()[0] == 0
    assert outbox.delivered_summary(key) == {"label": "a"}
    outbox.compact()
    assert (tmp_path / "outbox.sqlite3-wal").stat().st_size == 0  # no old frames left behind


def test_network_down_keeps_the_item_and_stops_draining_to_keep_order(outbox):
    for label in "abc":
        put(outbox, label)
    recorder = Recorder()
    recorder.fail["b"] = BackendUnavailable("POST /ratings: backend unreachable")
    report = outbox.drain(recorder)
    assert recorder.sent == ["a"]
    assert report.blocked_by is not None
    assert [i.kind for i in outbox.items()] == ["rating", "rating"]
    assert outbox.items()[0].last_error.startswith("POST /ratings")
    del recorder.fail["b"]
    outbox.drain(recorder)
    assert recorder.sent == ["a", "b", "c"]


def test_a_refused_item_is_set_aside_and_the_rest_still_sent(outbox, caplog):
    for label in "abc":
        put(outbox, label)
    recorder = Recorder()
    recorder.fail["b"] = BackendRejected("POST /ratings: 422 invalid_request", code="invalid_request", status=422)
    with caplog.at_level(logging.ERROR):
        report = outbox.drain(recorder)
    assert recorder.sent == ["a", "c"]
    assert len(report.rejected) == 1
    assert outbox.counts() == {"pending": 0, "rejected": 1, "quarantined": 0}
    assert "rejected by the backend" in caplog.text
    assert outbox.retry_set_aside(report.rejected[0])
    recorder.fail.clear()
    outbox.drain(recorder)
    assert recorder.sent == ["a", "c", "b"]


@pytest.mark.parametrize("damage", ["flip_payload", "truncate_payload", "flip_part", "swap_payload", "bad_kind"])
def test_a_corrupted_row_is_quarantined_with_a_clear_log_line_and_the_rest_still_sent(outbox, tmp_path, caplog,
                                                                                      damage):
    keys = [put(outbox, label) for label in "abc"]
    conn = sqlite3.connect(tmp_path / "outbox.sqlite3")
    victim = keys[1]
    if damage == "flip_payload":
        payload = bytearray(conn.execute("SELECT payload FROM outbox_items WHERE key=?", (victim,)).fetchone()[0])
        payload[20] ^= 0xFF
        conn.execute("UPDATE outbox_items SET payload=? WHERE key=?", (bytes(payload), victim))
    elif damage == "truncate_payload":
        conn.execute("UPDATE outbox_items SET payload=substr(payload, 1, 10) WHERE key=?", (victim,))
    elif damage == "flip_part":
        data = bytearray(conn.execute("SELECT data FROM outbox_parts WHERE item_key=?", (victim,)).fetchone()[0])
        data[-1] ^= 0x01
        conn.execute("UPDATE outbox_parts SET data=? WHERE item_key=?", (bytes(data), victim))
    elif damage == "swap_payload":  # someone else's encrypted data copied over this row
        other = conn.execute("SELECT payload FROM outbox_items WHERE key=?", (keys[2],)).fetchone()[0]
        conn.execute("UPDATE outbox_items SET payload=? WHERE key=?", (other, victim))
    else:
        conn.execute("UPDATE outbox_items SET kind='teleport' WHERE key=?", (victim,))
    conn.commit()
    conn.close()
    recorder = Recorder()
    with caplog.at_level(logging.ERROR, logger="kiosk.backend.outbox"):
        report = outbox.drain(recorder)
    assert recorder.sent == ["a", "c"]
    assert report.quarantined == [victim]
    assert outbox.counts()["quarantined"] == 1
    lines = [r for r in caplog.records if "quarantined" in r.getMessage()]
    assert len(lines) == 1
    fields = lines[0].fields
    assert fields["key"] == victim and fields["reason"]
    assert NAME not in caplog.text and ID_NUMBER not in caplog.text


def test_a_handler_that_finds_nonsense_quarantines_the_item(outbox):
    put(outbox, "a")

    def deliver(envelope, progress):
        raise CorruptItem("payload does not fit the rating contract")

    report = outbox.drain(deliver)
    assert len(report.quarantined) == 1
    assert outbox.counts()["quarantined"] == 1


def test_a_damaged_database_file_is_rebuilt_keeping_readable_items(tmp_path, key_path):
    path = tmp_path / "outbox.sqlite3"
    cipher = RecordCipher(load_or_create_data_key(key_path))
    box = Outbox(path, cipher)
    for label in "ab":
        put(box, label)
    box.close()
    with open(path, "r+b") as handle:  # wreck the header: no longer a database
        handle.write(b"garbage" * 20)
    box = Outbox(path, cipher)
    assert box.pending_count() == 0  # nothing readable survived a wrecked header …
    assert list(tmp_path.glob("outbox.sqlite3.damaged-*"))  # … but the damaged file is kept for recovery
    put(box, "c")
    recorder = Recorder()
    box.drain(recorder)
    assert recorder.sent == ["c"]
    box.close()


def test_items_survive_reopening(tmp_path, key_path):
    path = tmp_path / "outbox.sqlite3"
    cipher = RecordCipher(load_or_create_data_key(key_path))
    box = Outbox(path, cipher)
    put(box, "a")
    box.close()
    again = Outbox(path, RecordCipher(load_or_create_data_key(key_path)))
    recorder = Recorder()
    again.drain(recorder)
    assert recorder.sent == ["a"]
    again.close()


def test_another_key_cannot_read_the_items(tmp_path, key_path):
    path = tmp_path / "outbox.sqlite3"
    box = Outbox(path, RecordCipher(load_or_create_data_key(key_path)))
    put(box, "a")
    box.close()
    other = Outbox(path, RecordCipher(load_or_create_data_key(tmp_path / "other.key")))
    report = other.drain(Recorder())
    assert len(report.quarantined) == 1
    other.close()


def test_data_key_file_is_created_private_and_bad_ones_are_named(tmp_path):
    path = tmp_path / "sub" / "k.key"
    key = load_or_create_data_key(path)
    assert len(key) == 32 and path.stat().st_mode & 0o077 == 0
    assert load_or_create_data_key(path) == key
    path.write_text("not base64 !!")
    with pytest.raises(KeyFileError, match="k.key"):
        load_or_create_data_key(path)


def test_cipher_binds_record_to_its_context():
    cipher = RecordCipher(b"k" * 32)
    sealed = cipher.encrypt(b"secret", "a|rating|payload")
    assert cipher.decrypt(sealed, "a|rating|payload") == b"secret"
    with pytest.raises(DecryptError):
        cipher.decrypt(sealed, "b|rating|payload")


def test_expired_set_aside_items_are_purged(tmp_path, key_path):
    now = [1000.0]
    box = Outbox(tmp_path / "o.sqlite3", RecordCipher(load_or_create_data_key(key_path)), clock=lambda: now[0])
    put(box, "a")
    recorder = Recorder()
    recorder.fail["a"] = BackendRejected("no", status=422)
    box.drain(recorder)
    now[0] += 31 * 24 * 3600
    assert box.purge_expired() == 1
    assert box.items() == []
    box.close()


def test_listeners_hear_changes(outbox):
    heard = []
    outbox.subscribe(lambda: heard.append(outbox.pending_count()))
    put(outbox, "a")
    outbox.drain(Recorder())
    assert heard == [1, 0]


def test_unknown_kind_is_refused_at_write_time(outbox):
    with pytest.raises(ValueError):
        outbox.enqueue("teleport", {})
    assert json.dumps(outbox.counts())


def test_draining_stops_between_items_when_asked(outbox):
    for label in "abc":
        put(outbox, label)
    recorder = Recorder()
    report = outbox.drain(recorder, should_stop=lambda: len(recorder.sent) >= 1)
    assert recorder.sent == ["a"] and len(report.delivered) == 1
    assert outbox.pending_count() == 2


def test_the_outbox_and_its_wal_are_readable_by_the_owner_only(outbox, tmp_path):
    put(outbox, "a")
    files = [tmp_path / "outbox.sqlite3", tmp_path / "outbox.sqlite3-wal", tmp_path / "outbox.sqlite3-shm"]
    assert all(path.exists() for path in files)
    assert [oct(path.stat().st_mode & 0o777) for path in files] == ["0o600"] * 3
