"""Day-two operations behind the ``cliproxy`` command: doctor, client setup, service units."""
