"""Sub-commands of ``kiosk``: one module each, with ``register(subparsers)``."""
