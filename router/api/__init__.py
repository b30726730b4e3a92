"""Client-facing HTTP API: where requests enter the router."""
