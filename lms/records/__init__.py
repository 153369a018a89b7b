"""The hours ledger and the append-only progression record HR reviews."""
