"""Who may reach the router: the request-origin policy (Host, Origin, CORS), the relay key
and what the health endpoint shows without credentials."""
