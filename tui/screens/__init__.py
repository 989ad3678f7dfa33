"""The chat's screens: the main chat screen (pushed first, never popped)."""
