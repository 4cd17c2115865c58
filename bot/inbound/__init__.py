"""The inbound path every channel shares: journal first, acknowledge, then handle."""
