"""The follow-up tests use the alerts tests' database engine fixture."""

from tests.alerts.conftest import engine

__all__ = ["engine"]
