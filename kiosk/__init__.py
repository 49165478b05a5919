"""河易办 kiosk core: everything below the UI, runnable and testable without a display."""

__version__ = "0.1.0"
