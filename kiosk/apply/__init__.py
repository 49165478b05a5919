"""Applying for a service item at the kiosk (issue 11): the pieces the apply flow is made of.

- ``form``: the form's fields from the item's application definition — pre-filled from the
  identity, typed, and checked field by field with the reason in plain words;
- ``eligibility``: the conditions the ID card can prove (age), with the date from which an
  applicant who is too young may apply;
- ``pages``: captured pages and signed commitments as files in the session's scratch folder;
- ``signature``: a 告知承诺 signed on the screen, rendered as a page image;
- ``slips``: the acceptance receipt (delivered or waiting for the network) and the
  一次性告知单 (everything still missing, and where to get it);
- ``submission``: the contract's ``ApplicationCreate`` and the pages to upload;
- ``examples``: the example pictures shown next to each material.

The journey itself is ``kiosk.flows.apply.ApplyFlow``.
"""
