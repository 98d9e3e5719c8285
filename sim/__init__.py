"""sim: scenario simulation of Iran-Russia-US-Gulf alignment and a Russian betrayal in Syria."""

__version__ = "0.1.0"
