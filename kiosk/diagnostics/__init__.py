"""Diagnostics for technicians: one report of every device, the backend, ports and the machine.

- ``model``: the report (``DiagReport``, ``DeviceDiag``), how a device's status is judged
  (ok / degraded / fault / absent) and the JSON document of ``kiosk diag --json``;
- ``collect``: builds the report from a running device manager and backend (the ``diag``
  screen) or from devices opened for the purpose (``kiosk diag``);
- ``system``: disk, memory, versions; ``ports``: serial-port discovery (by-id, VID:PID);
- ``backend_probe``: reachability and latency of the acceptance system;
- ``slip``: the report as a printed diagnostics slip.
"""
