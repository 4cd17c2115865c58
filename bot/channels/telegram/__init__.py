"""Telegram, through aiogram 3: updates in, HTML messages with inline keyboards out."""
