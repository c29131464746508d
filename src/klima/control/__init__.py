"""Control logic that sits between every command source and the units."""
