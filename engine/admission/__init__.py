"""事项准入: admitting matters to townships — the process kind, its operations, the register."""
