"""MQTT: the broker connection, the embedded broker, Home Assistant discovery and the bridge."""
