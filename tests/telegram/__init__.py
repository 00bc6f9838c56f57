"""Telegram adapter tests, through python-telegram-bot against a fake Bot API on 127.0.0.1."""
