"""The everyday image tools: use cases that serve every play rather than being one (info, compare,
re-roll, vary, the ship pack, the recipe library)."""
