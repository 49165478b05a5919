"""A stand-in kiosk process for the kill -9 tests: store an application in the outbox, send it.

Usage: python outbox_child.py CONFIG.json
CONFIG names the outbox file and key, the backend URL, the terminal id and key, and the
item code. It prints "stored <key>" once the item is on disk, then drains the outbox; the
test kills it with SIGKILL at the moment the fault proxy holds the chosen request.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from backend_support import jpeg_page, person, resident_id  # noqa: E402
from kiosk.backend import models as m  # noqa: E402
from kiosk.backend.client import BackendClient  # noqa: E402
from kiosk.backend.crypto import RecordCipher, load_or_create_data_key  # noqa: E402
from kiosk.backend.delivery import Deliverer, application_payload  # noqa: E402
from kiosk.backend.outbox import Outbox  # noqa: E402
from kiosk.backend.signing import parse_key  # noqa: E402


def main() -> int:
    config = json.loads(Path(sys.argv[1]).read_text())
    outbox = Outbox(config["outbox"], RecordCipher(load_or_create_data_key(config["outbox_key"])))
    client = BackendClient(config["url"], config["terminal_id"], parse_key(config["terminal_key"]), retries=0,
                           read_timeout=60)
    create = m.ApplicationCreate(item_code=config["item_code"],
                                 applicant=person("周杰", id_number=resident_id("19790118", sequence=222)))
    pages = [(index, 1, "image/jpeg", jpeg_page(100 * 1024, seed=index)) for index in config["materials"]]
    payload, parts = application_payload(create, m.SubmitRequest(declaration_accepted=True), pages)
    key = outbox.enqueue("application", payload, parts)
    print(f"stored {key}", flush=True)
    report = outbox.drain(Deliverer(client))
    print(f"done delivered={len(report.delivered)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
