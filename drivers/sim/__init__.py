"""Simulator plumbing shared by every simulated device: the serial base class and the control socket."""
