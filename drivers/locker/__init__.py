"""The results pickup cabinet: board protocols (Kerong CU, 0x8A), the serial driver and the simulator."""
from drivers.locker.locker import DoorEvent, DoorState, Locker, LockJammed, SerialLocker

__all__ = ["DoorEvent", "DoorState", "Locker", "LockJammed", "SerialLocker"]
