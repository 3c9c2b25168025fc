"""The tamper-evident audit log (DESIGN §6): hash chain, signed checkpoints, offline checks."""
