"""Offline tooling: the local Slack stand-in, the demo, the shell, the load driver and transcripts.

Nothing in the product imports this package except the CLI's `demo` and `shell` entry points.
"""
