"""The conversation, written once for every channel."""
