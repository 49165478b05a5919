"""The resident journeys as explicit, Kivy-free state machines.

- ``base``: the ``Flow`` state machine (transition table, problem line, listeners, held
  subscriptions released when the flow ends);
- ``inputs``: the ``InputRouter`` that gives placed cards and scanned codes to the one flow
  that claimed them last;
- ``identify``: the kiosk-wide sign-in with an ID card or an identity code;
- ``agent``: 代办, a grid worker signs in with a staff code or card and a PIN and acts for a
  resident;
- ``staff_call``: 呼叫工作人员 from any screen;
- ``follow``: 办件查询 by ID card, receipt QR code or typed number, and what a case shows
  (timeline, next step); ``pickup``: 自助取件 from the locker; ``rating``: 好差评;
- ``availability``: which journeys can run now and why not.

Flows get their collaborators (session, input router, backend, a background runner, a clock)
through their constructors from the composition root (``kiosk.runtime``). Screens show a
flow's state and call its methods; they hold no business rule.
"""
