"""The disposable project copies of test_supervisord.py, shared with the other e2e modules."""

from tests.e2e.test_supervisord import project, repo_installed

__all__ = ["project", "repo_installed"]
