"""The reference backend: the kiosk contract implemented for real on FastAPI, uvicorn and SQLite.

Used by the demo (embedded, in-process on a loopback port), by the end-to-end tests, and by
``kiosk backend serve`` for a small pilot. It has a clerk's web page for the back-office side.
"""
