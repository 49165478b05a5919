"""The receipt printer: ESC/POS encoder, status parser, transports, device and simulator."""
