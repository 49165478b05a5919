"""Receipts: layouts as data, their ESC/POS bytes, the slips the kiosk prints, and print jobs.

- ``layout``: the element model and ``compile_receipt`` (layout → bytes for a ``Target``);
- ``wrapping``: width-aware line breaking (Chinese is two columns wide);
- ``templates``: acceptance receipt, pickup slip, printer test page, diagnostics slip;
- ``samples``: made-up data for each, for the CLI and the docs;
- ``jobs``: the print queue that keeps a job until it has fully printed.
"""
