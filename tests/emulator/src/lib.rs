//! Entra ID / Graph emulator.
