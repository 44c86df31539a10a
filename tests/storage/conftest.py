"""Fixtures for the storage tests."""
from __future__ import annotations

import pytest

from tests.storage.storage_helpers import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()
