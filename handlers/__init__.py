"""Thin Bolt listeners, split by kind; each module registers its own (see bot.app)."""
