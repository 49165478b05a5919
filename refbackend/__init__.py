"""The reference backend: the kiosk contract implemented for real on FastAPI, uvicorn and SQLite
(or PostgreSQL with several workers, for a district: ``refbackend.db``, ``refbackend.workers``).

Used by the demo (embedded in the kiosk process on a loopback port, ``refbackend.embed``), by
the end-to-end tests, and by ``kiosk backend serve``; it has a clerk's web
page for the back-office side. It installs with the extra ``heyiban-kiosk[refbackend]``.

From the kiosk it uses only the contract: ``kiosk.backend.models`` and ``kiosk.backend.signing``.
Nothing in the kiosk core imports it; only the entry layer (``kiosk/commands/``) does, lazily.
"""
