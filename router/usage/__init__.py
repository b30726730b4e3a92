"""Who used what and what it cost: metrics, the usage ledger, prices and client keys."""
