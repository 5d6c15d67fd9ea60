"""usagelens: usage analytics and metering for AI agents, bots, voice and messaging."""

__version__ = "0.1.0"
