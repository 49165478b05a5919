"""Technicians' hidden entry: the corner gesture, the PIN (hashed, with a growing lockout) and
the audited session on the diagnostics screen.

- ``pin``: hashing and checking the technician PIN (``kiosk config set-pin``);
- ``corner``: the hidden gesture (N taps in one corner within a few seconds);
- ``gate``: wrong PINs lock out with growing delays, kept across restarts;
- ``flow``: ``TechnicianFlow``, the state machine the PIN pad and the ``diag`` screen show,
  which sends every entry and action to the backend's audit trail.
"""
