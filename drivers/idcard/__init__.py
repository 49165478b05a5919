"""Second-generation ID card readers: GA/T 467 frames, card text, the serial driver, the simulator."""
from drivers.idcard.card import LONG_TERM, CardType, IdCard
from drivers.idcard.reader import CardEvent, CardReadError, Ga467Reader, IdCardReader, NoCardError, SamError

__all__ = ["LONG_TERM", "CardType", "IdCard", "CardEvent", "CardReadError", "Ga467Reader", "IdCardReader",
           "NoCardError", "SamError"]
