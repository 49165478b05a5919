"""Pinyin input for the on-screen keyboard: syllables, readings, the lexicon and the engine."""
