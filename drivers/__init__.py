"""Hardware abstraction layer: one interface per device class, real drivers and simulators.

Nothing here imports ``kiosk`` or Kivy.
"""
