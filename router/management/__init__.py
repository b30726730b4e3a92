"""Who may use the management routes (/v1/auth/*, /v1/management/*)."""
