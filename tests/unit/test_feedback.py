"""Feedback readings from other bridges' topics."""

from __future__ import annotations

import pytest

from klima.config import FeedbackConfig
from klima.control.feedback import extract, read_feedback

PLUG = FeedbackConfig(topic="tasmota/ac/SENSOR", json_path="ENERGY.Power", on_above_w=40)
CONTACT = FeedbackConfig(topic="z2m/ac_flap", json_path="contact", kind="contact")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"ENERGY": {"Power": 812}}', True),
        (b'{"ENERGY": {"Power": 3.5}}', False),
        (b'{"ENERGY": {}}', None),
        (b"not json", None),
        (b'{"ENERGY": {"Power": "n/a"}}', None),
    ],
)
def test_plug_power(payload: bytes, expected: bool | None) -> None:
    assert read_feedback(payload, PLUG) is expected


def test_plain_number_and_contact_words() -> None:
    plain = FeedbackConfig(topic="shelly/ac/power")
    assert read_feedback(b"120.5", plain) is True
    assert read_feedback(b"0", plain) is False
    assert read_feedback(b'{"contact": true}', CONTACT) is True
    assert read_feedback(b'{"contact": "OFF"}', CONTACT) is False
    assert read_feedback(b'{"contact": "maybe"}', CONTACT) is None


def test_extract_walks_a_dotted_path() -> None:
    assert extract(b'{"a": {"b": {"c": 4}}}', "a.b.c") == 4
    assert extract(b'{"a": [1]}', "a.b") is None
    assert extract(b"ON", None) == "ON"


def test_contact_can_be_inverted_and_topics_have_no_wildcards() -> None:
    closed_when_off = FeedbackConfig(
        topic="z2m/flap", json_path="contact", kind="contact", invert=True
    )
    assert read_feedback(b'{"contact": true}', closed_when_off) is False
    assert read_feedback(b'{"contact": false}', closed_when_off) is True
    with pytest.raises(ValueError, match="pattern"):
        FeedbackConfig(topic="tasmota/+/SENSOR")
