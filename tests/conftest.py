"""Fixtures shared by every test package."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support.mosquitto import MosquittoBroker

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """A real Mosquitto on a free loopback port, shared by the whole session.

    Tests that share it keep apart by topic (see ``mqtt_base``). ``restart()`` keeps the port.
    """
    broker = MosquittoBroker(Path(tmp_path_factory.mktemp("mosquitto")))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mqtt_base(mosquitto: MosquittoBroker) -> str:
    """A base topic no other test uses, so retained messages never leak between tests."""
    if not mosquitto.running:
        mosquitto.start()  # a test that stopped the broker must not break the next one
    return f"t{uuid.uuid4().hex[:12]}"
