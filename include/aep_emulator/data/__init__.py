"""Data files of the emulator (standard XDM field trees)."""
